// Stylesheets are bundled by esbuild (into main-<hash>.css), not imported as values.
declare module "*.css";
