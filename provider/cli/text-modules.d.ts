/** Files bundled as text by esbuild's `--loader:.yaml=text`. */
declare module "*.yaml" {
  const text: string;
  export default text;
}
