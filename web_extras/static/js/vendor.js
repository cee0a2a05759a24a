// The vendored libraries of the trend page (D3 v7, the socket.io client) are
// classic scripts. trend.html runs D3 before this module (a deferred script),
// so that a page whose first data is in its HTML draws without waiting for
// anything; where it has not run, it is added here. The socket.io client is
// added after the first draw, so that compiling it never holds back the chart.
// `d3` is bound once D3 has run: wait for `loadD3()` before drawing.

export let d3 = window.d3;

const scripts = new Map();

// Adds <script src> once (later calls get the same promise); resolves when it ran.
function loadScript(src) {
  if (!scripts.has(src)) {
    scripts.set(src, new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = src;
      script.async = false;
      script.addEventListener("load", () => resolve(), { once: true });
      script.addEventListener("error", () => reject(new Error(`${src} could not be loaded`)), { once: true });
      document.head.append(script);
    }));
  }
  return scripts.get(src);
}

export function loadD3() {
  if (window.d3) return Promise.resolve((d3 = window.d3));
  return loadScript("static/vendor/d3.trend.min.js").then(() => (d3 = window.d3));
}

// Without it (blocked, or failed to load) the page still works, without live pushes.
export function loadSocketIo() {
  return loadScript("static/vendor/socket.io.min.js").catch(() => undefined);
}
