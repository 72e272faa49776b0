// The support form asks only what applies: the day off for a wellness day, a number for a call
// or a text, no "good time" for "today, as soon as possible". Without this file every field
// shows and the server asks only for what applies.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("form [data-show-when], form [data-hide-when]")?.closest("form");
  if (!form) { return; }
  const parse = (rule) => {
    const [name, values] = rule.split("=");
    return { name, values: values.split(",") };
  };
  const chosen = (name) => form.querySelector(`input[name="${name}"]:checked`)?.value;
  // A field the server refused stays in view, whatever is chosen, so its message can be read.
  const refused = (el) => el.querySelector(".has-error") !== null;
  const update = () => {
    form.querySelectorAll("[data-show-when]").forEach((el) => {
      const { name, values } = parse(el.dataset.showWhen);
      el.hidden = !values.includes(chosen(name)) && !refused(el);
    });
    form.querySelectorAll("[data-hide-when]").forEach((el) => {
      const { name, values } = parse(el.dataset.hideWhen);
      el.hidden = values.includes(chosen(name)) && !refused(el);
    });
  };
  form.addEventListener("change", update);
  update();
});
