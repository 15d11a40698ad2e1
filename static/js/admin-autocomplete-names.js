'use strict';
// The admin's autocomplete pickers (select2) name their combobox only by the value chosen: an empty picker
// has no accessible name (axe: aria-input-field-name, issue 19). Each picker is named here by its field's
// label, then its value. Pickers drawn later (a new inline row) are named as they appear.
(function () {
  function labelId(select) {
    const label = select.id && document.querySelector('label[for="' + CSS.escape(select.id) + '"]');
    if (!label) {
      return null;
    }
    if (!label.id) {
      label.id = select.id + '-label';
    }
    return label.id;
  }

  function name(container) {
    const select = container.previousElementSibling;
    if (!select || select.tagName !== 'SELECT') {
      return;
    }
    const label = labelId(select);
    if (!label) {
      return;
    }
    const combobox = container.querySelector('.select2-selection[role="combobox"]');
    const rendered = container.querySelector('.select2-selection__rendered');
    if (combobox) {
      const value = rendered && rendered.id ? ' ' + rendered.id : '';
      combobox.setAttribute('aria-labelledby', label + value);
    }
    if (rendered && rendered.getAttribute('role') === 'textbox') {
      rendered.setAttribute('aria-labelledby', label);
    }
    container.querySelectorAll('.select2-search__field').forEach(function (field) {
      field.setAttribute('aria-labelledby', label);
    });
  }

  function nameAll() {
    document.querySelectorAll('select + .select2-container').forEach(name);
  }

  function start() {
    nameAll();
    new MutationObserver(nameAll).observe(document.body, {childList: true, subtree: true});
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
