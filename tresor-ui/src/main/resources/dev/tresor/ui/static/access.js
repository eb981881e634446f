// The access graph, drawn by the bundled Cytoscape.js (MIT, static/vendor/) from the page's
// data-graph attribute: no request beyond the console. Clicking a client or a secret asks about it.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("graph");
  if (!container || typeof cytoscape !== "function") {
    return;
  }
  const selected = container.dataset.selected;
  const graph = cytoscape({
    container,
    elements: JSON.parse(container.dataset.graph),
    style: [
      { selector: "node", style: { "label": "data(label)", "font-size": 11, "text-valign": "bottom", "text-margin-y": 4,
          "width": 18, "height": 18, "background-color": "#6b7385", "color": "#1d2433" } },
      { selector: "node[kind = 'client']", style: { "background-color": "#2457c5", "shape": "ellipse" } },
      { selector: "node[kind = 'group']", style: { "background-color": "#a15c00", "shape": "round-rectangle" } },
      { selector: "node[kind = 'secret']", style: { "background-color": "#107a3d", "shape": "diamond" } },
      { selector: "node.selected", style: { "border-width": 4, "border-color": "#b42318", "width": 26, "height": 26 } },
      { selector: "edge", style: { "width": 1.5, "line-color": "#c4cad6", "target-arrow-color": "#c4cad6",
          "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(label)", "font-size": 9,
          "color": "#6b7385" } },
      { selector: "edge.path", style: { "line-color": "#b42318", "target-arrow-color": "#b42318", "width": 3 } },
    ],
    layout: { name: "breadthfirst", directed: true, spacingFactor: 1.1, roots: "node[kind = 'client']" },
  });
  if (selected) {
    const node = graph.getElementById(selected);
    node.addClass("selected");
    // The paths to or from the selected node: predecessors of a secret, successors of a client.
    const path = node.data("kind") === "secret" ? node.predecessors() : node.successors();
    path.edges().addClass("path");
  }
  graph.on("tap", "node", (event) => {
    const data = event.target.data();
    const days = document.querySelector("input[name='days']").value || "30";
    if (data.kind === "secret" || data.kind === "client") {
      window.location.href = "/access?" + data.kind + "=" + encodeURIComponent(data.label) + "&days=" + days;
    }
  });
  container.dataset.ready = "true";
});
