// The vendored libraries of the trend page (D3 v7, the socket.io client) are
// classic scripts deferred after the page's modules: the modules run first and
// ask the service for the data while the browser still compiles D3 (the
// largest file by far). `d3` is bound once D3 has run; wait for `scriptsReady`
// before drawing or connecting. Deferred scripts have all run when
// DOMContentLoaded fires ("load" covers a module evaluated after that).

export let d3 = window.d3;

export const scriptsReady = new Promise((resolve) => {
  const ran = () => {
    d3 = window.d3;
    resolve();
  };
  if (document.readyState === "complete") {
    ran();
  } else {
    document.addEventListener("DOMContentLoaded", ran, { once: true });
    window.addEventListener("load", ran, { once: true });
  }
});
