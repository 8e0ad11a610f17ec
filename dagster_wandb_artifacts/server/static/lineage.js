// Pan and zoom of the lineage SVG: the viewBox starts fitted to the whole graph; the wheel
// zooms about the pointer, dragging pans, the buttons zoom, fit, or reset to 100 %.
(() => {
  const svg = document.querySelector("svg.lineage");
  if (!svg) return;
  const full = { w: +svg.dataset.width, h: +svg.dataset.height };
  let box = { x: 0, y: 0, w: full.w, h: full.h };
  const apply = () => svg.setAttribute("viewBox", `${box.x} ${box.y} ${box.w} ${box.h}`);
  const zoom = (factor, cx, cy) => {
    const w = Math.min(Math.max(box.w * factor, 80), full.w * 8);
    const h = w * (box.h / box.w);
    box = { x: cx - (cx - box.x) * (w / box.w), y: cy - (cy - box.y) * (h / box.h), w, h };
    apply();
  };
  const point = (event) => {
    const r = svg.getBoundingClientRect();
    const scale = Math.max(box.w / r.width, box.h / r.height);
    return { x: box.x + (event.clientX - r.left) * scale, y: box.y + (event.clientY - r.top) * scale, scale };
  };
  svg.addEventListener("wheel", (event) => {
    event.preventDefault();
    const p = point(event);
    zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, p.x, p.y);
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", (event) => {
    if (event.target.closest("a")) return;  // a click on a node opens it
    drag = { x: event.clientX, y: event.clientY, box: { ...box }, scale: point(event).scale };
    svg.setPointerCapture(event.pointerId);
  });
  svg.addEventListener("pointermove", (event) => {
    if (!drag) return;
    box = { ...drag.box, x: drag.box.x - (event.clientX - drag.x) * drag.scale, y: drag.box.y - (event.clientY - drag.y) * drag.scale };
    apply();
  });
  svg.addEventListener("pointerup", () => { drag = null; });
  const center = () => [box.x + box.w / 2, box.y + box.h / 2];
  const buttons = {
    "zoom-in": () => zoom(1 / 1.4, ...center()),
    "zoom-out": () => zoom(1.4, ...center()),
    "fit": () => { box = { x: 0, y: 0, w: full.w, h: full.h }; apply(); },
    "actual": () => {
      const r = svg.getBoundingClientRect();
      box = { x: 0, y: 0, w: r.width, h: r.height };
      apply();
    },
  };
  document.querySelectorAll("[data-lineage]").forEach((button) => {
    button.addEventListener("click", buttons[button.dataset.lineage]);
  });
})();
