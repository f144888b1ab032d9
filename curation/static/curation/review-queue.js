// Keyboard review for the synthetic queue: j/k move, a accept, r reject, e edit, Esc cancel.
(function () {
  "use strict";
  const queue = document.querySelector("[data-keyboard-queue]");
  if (!queue) return;
  const items = () => Array.from(queue.querySelectorAll(".review-item"));
  const current = () => queue.querySelector(".review-item.current") || items()[0];

  function select(item) {
    items().forEach((el) => el.classList.toggle("current", el === item));
    if (item) item.focus({ preventScroll: false });
  }

  function toggleEdit(item, open) {
    item.querySelector(".edit-fields").hidden = !open;
    item.querySelector(".save-edit").hidden = !open;
    if (open) item.querySelector(".edit-fields textarea").focus();
  }

  queue.addEventListener("click", (event) => {
    const item = event.target.closest(".review-item");
    if (item) select(item);
    if (event.target.classList.contains("edit-toggle")) toggleEdit(item, true);
  });

  document.addEventListener("keydown", (event) => {
    const item = current();
    if (!item || event.ctrlKey || event.metaKey || event.altKey) return;
    const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
    if (event.key === "Escape") { toggleEdit(item, false); item.focus(); return; }
    if (typing) return;
    const list = items();
    const index = list.indexOf(item);
    if (event.key === "j") select(list[Math.min(index + 1, list.length - 1)]);
    else if (event.key === "k") select(list[Math.max(index - 1, 0)]);
    else if (event.key === "e") { event.preventDefault(); toggleEdit(item, true); }
    else if (event.key === "a" || event.key === "r") {
      item.querySelector(`button[data-key="${event.key}"]`).click();
    }
  });
  select(current());
})();
