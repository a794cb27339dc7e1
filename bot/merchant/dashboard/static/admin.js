// The dashboard's only script: the "Copy address" button. Everything else works without it.
"use strict";

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-copy]");
  if (!button) {
    return;
  }
  const source = document.getElementById(button.dataset.copy);
  if (!source) {
    return;
  }
  const label = button.textContent;
  try {
    await navigator.clipboard.writeText(source.textContent);
    button.textContent = "Copied";
  } catch (error) {
    // No clipboard (plain http on another host): select the text for a manual copy.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    button.textContent = "Selected: copy it";
  }
  setTimeout(() => {
    button.textContent = label;
  }, 2000);
});

// A form disables its button once sent: a second click does nothing (and if one got through,
// the form's one-time token makes the server act once anyway).
document.addEventListener("submit", (event) => {
  const button = event.target.querySelector("button[type=submit]");
  if (button) {
    setTimeout(() => {
      button.disabled = true;
    }, 0);
  }
});
