/** Files bundled as text by esbuild's `--loader:.yaml=text`. */
declare module "*.yaml" {
  const text: string;
  export default text;
}

/** .proto files bundled as text by esbuild's `--loader:.proto=text`. */
declare module "*.proto" {
  const text: string;
  export default text;
}
