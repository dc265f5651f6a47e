import net from "node:net";

/**
 * Preloaded (`node --import`) into the reference proxy of bench/proxy-case.ts, whose start script
 * listens on every interface: its listener binds loopback only, like every listener of the
 * local platform. A port is kept; any host asked for is replaced.
 */
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function loopbackListen(...args) {
  const callback = args.find((a) => typeof a === "function");
  const first = args[0];
  const port = typeof first === "object" && first !== null ? first.port : first;
  return listen.call(this, { port: Number(port ?? 0), host: "127.0.0.1" }, callback);
};
