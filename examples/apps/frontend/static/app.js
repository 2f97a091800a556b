// Ask the backend (routed under /api by the load balancer, or by server.py's BACKEND_URL).
fetch("/api/hello?name=frontend", { headers: { Accept: "application/json" } })
  .then((response) => (response.ok ? response.json() : Promise.reject(new Error(`HTTP ${response.status}`))))
  .then((body) => { document.getElementById("greeting").textContent = body.message; })
  .catch((error) => { document.getElementById("greeting").textContent = `no answer (${error.message})`; });
