// CRM pages: composer tabs, row selection for bulk actions, small form comforts.
// Every form works without it; this only hides what is not needed right now.

// Composer tabs: <section data-tabs> with [data-tab] buttons and [data-panel] forms.
function showTab(section, name) {
  section.querySelectorAll("[data-tab]").forEach((tab) => {
    const on = tab.dataset.tab === name;
    tab.classList.toggle("active", on);
    tab.setAttribute("aria-selected", on ? "true" : "false");
  });
  section.querySelectorAll("[data-panel]").forEach((panel) => {
    panel.classList.toggle("active", panel.dataset.panel === name);
  });
}
document.addEventListener("click", (event) => {
  const tab = event.target.closest("[data-tabs] [data-tab]");
  if (tab) {
    showTab(tab.closest("[data-tabs]"), tab.dataset.tab);
    return;
  }
  const opener = event.target.closest("[data-open-tab]");
  const composer = document.querySelector("[data-tabs]");
  if (opener && composer) {
    event.preventDefault();
    showTab(composer, opener.dataset.openTab);
    composer.scrollIntoView({ behavior: "smooth", block: "start" });
    const input = composer.querySelector(`[data-panel="${opener.dataset.openTab}"] input:not([type=hidden]), [data-panel="${opener.dataset.openTab}"] textarea`);
    if (input) input.focus({ preventScroll: true });
  }
});
document.documentElement.classList.add("js");

// Bulk selection: the bar shows how many rows are ticked and the input the action needs.
function refreshBulk(form) {
  const boxes = form.querySelectorAll("input[name=ids]");
  const ticked = form.querySelectorAll("input[name=ids]:checked").length;
  const bar = form.querySelector("[data-bulk-bar]");
  const counter = form.querySelector("[data-bulk-count]");
  const all = form.querySelector("[data-select-all]");
  if (counter) counter.textContent = ticked;
  if (bar) bar.classList.toggle("has-selection", ticked > 0);
  if (all) {
    all.checked = ticked > 0 && ticked === boxes.length;
    all.indeterminate = ticked > 0 && ticked < boxes.length;
  }
  const action = form.querySelector("[data-bulk-action]");
  if (action) {
    form.querySelectorAll("[data-bulk-for]").forEach((part) => {
      part.hidden = part.dataset.bulkFor !== action.value;
    });
  }
  form.querySelectorAll("tbody tr").forEach((row) => {
    const box = row.querySelector("input[name=ids]");
    if (box) row.classList.toggle("selected", box.checked);
  });
}
document.addEventListener("change", (event) => {
  const form = event.target.closest("form[data-bulk]");
  if (!form) return;
  if (event.target.matches("[data-select-all]")) {
    form.querySelectorAll("input[name=ids]").forEach((box) => { box.checked = event.target.checked; });
  }
  refreshBulk(form);
});

// The properties panel shows its Save button once something was changed.
["input", "change"].forEach((type) => document.addEventListener(type, (event) => {
  const panel = event.target.closest("form[data-props]");
  if (panel) panel.classList.add("dirty");
}));

// Narrow screens fold the filter bar behind a "Filters" button.
document.addEventListener("click", (event) => {
  const toggle = event.target.closest("[data-filter-toggle]");
  if (!toggle) return;
  const bar = toggle.closest(".filter-bar");
  bar.classList.toggle("show-all");
  toggle.setAttribute("aria-expanded", bar.classList.contains("show-all") ? "true" : "false");
});

// Property settings: options only for choices; a key suggested from the label.
function refreshPropertyForm(form) {
  const type = form.querySelector("[data-property-type]");
  const options = form.querySelector("[data-options-field]");
  if (type && options) options.hidden = type.value !== "enum";
}
document.addEventListener("change", (event) => {
  if (event.target.matches("[data-property-type]")) refreshPropertyForm(event.target.form);
});
document.addEventListener("input", (event) => {
  if (!event.target.matches("[data-key-source]")) return;
  const key = event.target.form.querySelector("input[name=key]");
  if (!key || key.dataset.touched) return;
  key.value = event.target.value.toLowerCase()
    .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "_").replace(/^[^a-z]+/, "").replace(/_+$/, "").slice(0, 60);
});
document.addEventListener("keydown", (event) => {
  if (event.target.matches("input[name=key]")) event.target.dataset.touched = "1";
});

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("form[data-bulk]").forEach(refreshBulk);
  document.querySelectorAll("[data-property-type]").forEach((select) => refreshPropertyForm(select.form));
  // A refused form (400) still carries the page htmx should show, so swap it like a success.
  if (window.htmx) {
    htmx.config.responseHandling = [
      { code: "204", swap: false },
      { code: "[23]..", swap: true },
      { code: "400", swap: true, error: false },
      { code: "[45]..", swap: false, error: true },
    ];
  }
});
