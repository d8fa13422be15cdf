export * from './users';
export * from './auth';
export * from './mail';
export * from './media';
export * from './graph';
export * from './posts';
export * from './messaging';
export * from './communities';
