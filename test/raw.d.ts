// vite's raw imports (`./file?raw`): the file's text. A script file, so the wildcard is a declaration.
declare module '*?raw' {
  const text: string;
  export default text;
}
