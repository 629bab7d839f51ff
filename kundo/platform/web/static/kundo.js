// Small behaviours the server-rendered pages share. No framework, no build step.
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.dataset.confirm;
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});

// Suggest a workspace address from the company name until the person types one.
document.addEventListener("input", (event) => {
  if (!event.target.matches("[data-slug-source]")) return;
  const slug = document.querySelector("input[name=slug]");
  if (!slug || slug.dataset.touched) return;
  slug.value = event.target.value.toLowerCase()
    .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss")
    .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 40);
});
document.addEventListener("keydown", (event) => {
  if (event.target.matches("input[name=slug]")) event.target.dataset.touched = "1";
});

// Close open menus when clicking elsewhere.
document.addEventListener("click", (event) => {
  document.querySelectorAll("details.user-menu[open], details.switcher[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
