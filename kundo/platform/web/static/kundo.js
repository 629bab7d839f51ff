// Small behaviours the server-rendered pages share. No framework, no build step.
// Every form still works without JavaScript; these only add comfort and safety.

// Destructive actions ask first: <form data-confirm="Remove Anna?">.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  // Forms marked data-busy disable their button so a double click sends once.
  if (form.hasAttribute("data-busy")) {
    const button = event.submitter || form.querySelector("button[type=submit], button:not([type])");
    if (button) {
      window.setTimeout(() => { button.disabled = true; button.classList.add("is-busy"); }, 0);
    }
  }
});

// Suggest a workspace address from the company name until the person types one.
document.addEventListener("input", (event) => {
  if (!event.target.matches("[data-slug-source]")) return;
  const slug = document.querySelector("input[name=slug]");
  if (!slug || slug.dataset.touched) return;
  slug.value = event.target.value.toLowerCase()
    .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .normalize("NFKD").replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40).replace(/-+$/, "");
});
document.addEventListener("keydown", (event) => {
  if (event.target.matches("input[name=slug]")) event.target.dataset.touched = "1";
});

// Selects marked data-autosubmit save on change (e.g. a member's role).
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
});

// Copy buttons: <button data-copy="#element-id" data-copied="Copied">.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const source = document.querySelector(button.dataset.copy);
  if (!source) return;
  const text = source.textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const range = document.createRange();  // no clipboard API (plain http): select it for Ctrl-C
    range.selectNodeContents(source);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    return;
  }
  const label = button.querySelector("span");
  if (label && button.dataset.copied) {
    const before = label.textContent;
    label.textContent = button.dataset.copied;
    window.setTimeout(() => { label.textContent = before; }, 2000);
  }
});

// Close open menus when clicking elsewhere or pressing Escape.
function closeMenus(except) {
  document.querySelectorAll("details.user-menu[open], details.switcher[open]").forEach((menu) => {
    if (!except || !menu.contains(except)) menu.removeAttribute("open");
  });
}
document.addEventListener("click", (event) => closeMenus(event.target));
document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeMenus(null); });

// Coming back with the browser's back button shows the page from cache: wake busy buttons up.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("button.is-busy").forEach((button) => {
    button.disabled = false;
    button.classList.remove("is-busy");
  });
});

// On narrow screens the navigation scrolls sideways: keep the current page's entry in view.
document.addEventListener("DOMContentLoaded", () => {
  const nav = document.querySelector("nav.nav");
  const active = nav && nav.querySelector(".nav-item.active");
  if (active && nav.scrollWidth > nav.clientWidth) {
    nav.scrollLeft = active.offsetLeft - (nav.clientWidth - active.offsetWidth) / 2;
  }
});
