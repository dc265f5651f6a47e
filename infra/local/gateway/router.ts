import type { RouteDefinition } from "../../../functions/contract/routes";

export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly pathParameters: Record<string, string>;
}

interface CompiledRoute {
  readonly route: RouteDefinition;
  readonly pattern: RegExp;
  readonly params: readonly string[];
}

/** Matches request paths against the shared route table the way API Gateway resources do. */
export class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: readonly RouteDefinition[]) {
    this.compiled = routes.map((route) => {
      const params: string[] = [];
      const source = route.path
        .split("/")
        .map((seg) => {
          const m = /^\{(\w+)\}$/.exec(seg);
          if (!m?.[1]) return seg.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
          params.push(m[1]);
          return "([^/]+)";
        })
        .join("/");
      return { route, pattern: new RegExp(`^${source}/?$`), params };
    });
  }

  /** The route for method+path; `methodMismatch` when the path exists under other methods. */
  match(method: string, path: string): RouteMatch | { readonly methodMismatch: true } | undefined {
    let pathExists = false;
    for (const c of this.compiled) {
      const m = c.pattern.exec(path);
      if (!m) continue;
      pathExists = true;
      if (c.route.method !== method) continue;
      const pathParameters: Record<string, string> = {};
      c.params.forEach((p, i) => {
        pathParameters[p] = safeDecode(m[i + 1] ?? "");
      });
      return { route: c.route, pathParameters };
    }
    return pathExists ? { methodMismatch: true } : undefined;
  }
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
