// Small progressive enhancements; every form works without this file.
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });

  // "Tick all" boxes: <input type="checkbox" data-check-all="field-name">
  document.querySelectorAll("input[data-check-all]").forEach((master) => {
    const name = master.dataset.checkAll;
    const boxes = () => document.querySelectorAll(`input[type=checkbox][name="${name}"]`);
    master.addEventListener("change", () => {
      boxes().forEach((box) => { box.checked = master.checked; });
    });
  });

  // Move focus to a form's error summary so screen readers announce it.
  const summary = document.querySelector(".alert-error[role=alert]");
  if (summary) { summary.focus(); }
});
