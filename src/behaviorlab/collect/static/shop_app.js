// DemoShop: submit a form when one of its [data-autosubmit] controls changes (cart checkboxes
// and quantity selects). Everything else in the shop works without JavaScript.
document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLElement && el.hasAttribute("data-autosubmit") && el.form) {
    el.form.submit();
  }
});
