// The builder re-renders on the server when a step's kind, action or delay mode changes.
document.addEventListener("change", (event) => {
  const select = event.target.closest("[data-rerender]");
  if (!select) return;
  const form = select.form;
  const op = document.createElement("input");
  op.type = "hidden"; op.name = "op"; op.value = "refresh";
  form.appendChild(op);
  form.noValidate = true;
  form.submit();
});
