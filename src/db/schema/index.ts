export * from './users';
export * from './auth';
export * from './mail';
export * from './media';
