// The vendored libraries of the trend page (D3 v7, the socket.io client) are
// classic scripts that this module adds to the page when they are needed, so
// that compiling them never holds back the page's requests for its data:
// D3 once the first data is asked for (trend.html preloads the file, so it is
// downloaded meanwhile), the socket.io client after the first draw. `d3` is
// bound once D3 has run: wait for `loadD3()` before drawing.

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
