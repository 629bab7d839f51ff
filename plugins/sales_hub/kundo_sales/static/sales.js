/* Sales Hub pages: the board's drag and drop, and the stage picker of the deal form.
 *
 * Dropping a card moves it at once and posts the move; when the server refuses or cannot
 * be reached, the card goes back where it was and the message says why. Dropping on a
 * lost stage asks for the reason first. */
(function () {
  'use strict';

  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  function formatMoney(amount, currency) {
    try {
      return new Intl.NumberFormat(document.documentElement.lang || 'en', {
        style: 'currency', currency: currency || 'EUR', maximumFractionDigits: 0
      }).format(amount);
    } catch (e) { return amount.toFixed(0) + ' ' + currency; }
  }

  function columnOf(el) { return el.closest('[data-stage]'); }

  function adjust(column, card, sign) {
    var count = column.querySelector('[data-count]');
    count.textContent = String(Math.max(0, parseInt(count.textContent, 10) + sign));
    var sums = JSON.parse(column.dataset.sums || '{}');
    var cur = card.dataset.currency || 'EUR';
    sums[cur] = (parseFloat(sums[cur] || '0') + sign * parseFloat(card.dataset.amount || '0'));
    column.dataset.sums = JSON.stringify(sums);
    var parts = Object.keys(sums).sort().filter(function (k) { return sums[k] !== 0 || Object.keys(sums).length === 1; })
      .map(function (k) { return formatMoney(sums[k], k); });
    column.querySelector('[data-sum]').textContent = parts.length ? parts.join(' + ') : formatMoney(0, 'EUR');
  }

  function say(board, text, kind) {
    var box = document.querySelector('[data-board-message]');
    if (!box) return;
    box.hidden = false;
    box.className = 'board-message alert ' + (kind === 'error' ? 'alert-error' : 'alert-success');
    box.textContent = text;
    clearTimeout(box._timer);
    box._timer = setTimeout(function () { box.hidden = true; }, kind === 'error' ? 8000 : 3000);
  }

  function askReason(dialog) {
    return new Promise(function (resolve) {
      if (!dialog || !dialog.showModal) { resolve(window.prompt('?') || null); return; }
      var area = dialog.querySelector('textarea');
      area.value = '';
      dialog.returnValue = '';
      dialog.addEventListener('close', function onClose() {
        dialog.removeEventListener('close', onClose);
        resolve(dialog.returnValue === 'ok' && area.value.trim() ? area.value.trim() : null);
      });
      dialog.showModal();
      area.focus();
    });
  }

  function setupBoard(board) {
    var dragged = null, origin = null, originNext = null;
    var dialog = document.querySelector('[data-lost-dialog]');
    board.addEventListener('dragstart', function (event) {
      var card = event.target.closest('[data-deal]');
      if (!card) return;
      dragged = card; origin = card.parentElement; originNext = card.nextElementSibling;
      card.classList.add('is-dragging');
      event.dataTransfer.effectAllowed = 'move';
      event.dataTransfer.setData('text/plain', card.dataset.deal);
    });
    board.addEventListener('dragend', function () {
      if (dragged) dragged.classList.remove('is-dragging');
      board.querySelectorAll('.is-over').forEach(function (el) { el.classList.remove('is-over'); });
    });
    board.addEventListener('dragover', function (event) {
      var column = columnOf(event.target);
      if (!column || !dragged) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = 'move';
      board.querySelectorAll('.is-over').forEach(function (el) { if (el !== column) el.classList.remove('is-over'); });
      column.classList.add('is-over');
    });
    board.addEventListener('drop', function (event) {
      var column = columnOf(event.target);
      if (!column || !dragged) return;
      event.preventDefault();
      column.classList.remove('is-over');
      var card = dragged, from = columnOf(origin), back = { parent: origin, next: originNext };
      dragged = null;
      if (column === from) return;
      var list = column.querySelector('[data-dropzone]');
      list.insertBefore(card, list.firstChild);
      adjust(from, card, -1); adjust(column, card, +1);
      var reasonNeeded = column.dataset.kind === 'lost';
      var reason = reasonNeeded ? askReason(dialog) : Promise.resolve(null);
      reason.then(function (lostReason) {
        if (reasonNeeded && !lostReason) { undo(); return; }
        card.classList.add('is-saving');
        var url = board.dataset.moveUrl.replace(/\/0\/move$/, '/' + card.dataset.deal + '/move');
        fetch(url, {
          method: 'POST', credentials: 'same-origin',
          headers: { 'Content-Type': 'application/json', 'X-CSRFToken': csrf(), 'Accept': 'application/json' },
          body: JSON.stringify({ stage_id: parseInt(column.dataset.stage, 10), lost_reason: lostReason })
        }).then(function (response) {
          return response.json().catch(function () { return { ok: false }; }).then(function (data) {
            card.classList.remove('is-saving');
            if (response.ok && data.ok) {
              card.classList.remove('is-rotting');
              var badge = card.querySelector('.badge-warn'); if (badge) badge.remove();
              say(board, data.message, 'success');
            } else {
              undo(data.message || board.dataset.failed);
            }
          });
        }).catch(function () { card.classList.remove('is-saving'); undo(board.dataset.offline); });
      });

      function undo(message) {
        adjust(column, card, -1); adjust(from, card, +1);
        back.parent.insertBefore(card, back.next && back.next.parentElement === back.parent ? back.next : null);
        if (message) say(board, message, 'error');
      }
    });
  }

  function setupStagePicker(select) {
    var input = select.parentElement.querySelector('[data-pipeline-input]');
    function sync() { var o = select.options[select.selectedIndex]; if (o && input) input.value = o.dataset.pipeline; }
    select.addEventListener('change', sync);
    sync();
  }

  function init() {
    document.querySelectorAll('[data-board]').forEach(setupBoard);
    document.querySelectorAll('[data-stage-select]').forEach(setupStagePicker);
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init); else init();
})();
