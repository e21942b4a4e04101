// Strongroom: drag and drop onto the upload form, and filing one file per request with progress.
// No inline scripts anywhere (CSP script-src 'self'); without this script the form posts the whole batch.
"use strict";

function rowsOf(html) {
  // The server's own rows (upload_rows.html), parsed in a <template> so that <tr> survives.
  var template = document.createElement("template");
  template.innerHTML = html;
  return template.content;
}

function setupDropzone(zone, input, chosen) {
  function show() {
    var names = [];
    for (var i = 0; i < input.files.length; i++) { names.push(input.files[i].name); }
    chosen.textContent = names.join(", ");  // textContent: file names are never parsed as HTML
  }
  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    zone.addEventListener(type, function (e) { e.preventDefault(); zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files.length) { input.files = e.dataTransfer.files; show(); }
  });
  input.addEventListener("change", show);
  return show;
}

var PARALLEL = 2;

function setupUpload(form, input, showChosen) {
  var words = form.dataset;
  var list = document.getElementById("upload-progress");
  var results = document.getElementById("upload-results");
  var rows = document.getElementById("upload-rows");
  var summary = document.getElementById("upload-summary");
  var button = form.querySelector("button[type=submit]");
  var maxFiles = parseInt(words.maxFiles, 10) || 50;
  var maxBytes = parseInt(words.maxBytes, 10) || 0;

  function item(file) {
    var li = document.createElement("li");
    var name = document.createElement("span");
    name.className = "name";
    name.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var state = document.createElement("span");
    state.className = "state";
    state.textContent = words.waiting;
    li.append(name, " ", bar, " ", state);
    list.appendChild(li);
    var slot = document.createElement("tr");  // the file's rows go before it: results stay in the chosen order
    slot.hidden = true;
    rows.appendChild(slot);
    return { li: li, bar: bar, state: state, slot: slot };
  }

  function localRow(file, slot, status, reason) {
    var tr = document.createElement("tr");
    tr.className = "rejected";
    [file.name, status, "", reason].forEach(function (text) {
      var td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    rows.insertBefore(tr, slot);
  }

  function sendOne(file, shown, done) {
    if (maxBytes && file.size > maxBytes) {
      shown.bar.value = 100;
      shown.state.textContent = words.tooLarge;
      shown.li.className = "rejected";
      localRow(file, shown.slot, words.rejected, words.tooLarge);
      done(true);
      return;
    }
    var data = new FormData(form);
    data.delete("file");
    data.append("file", file, file.name);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.pathname);
    xhr.setRequestHeader("X-Strongroom-Rows", "1");
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) {
        shown.bar.value = Math.round(100 * e.loaded / e.total);
        shown.state.textContent = words.sending + " " + shown.bar.value + " %";
      }
    });
    xhr.upload.addEventListener("load", function () { shown.bar.value = 100; shown.state.textContent = words.filing; });
    function failed() {
      shown.state.textContent = words.failed;
      shown.li.className = "rejected";
      localRow(file, shown.slot, words.rejected, words.failed);
      done(false);
    }
    xhr.addEventListener("error", failed);
    xhr.addEventListener("load", function () {
      if (!xhr.getResponseHeader("X-Strongroom-Rows")) { failed(); return; }  // a login or error page
      var content = rowsOf(xhr.responseText);
      var error = content.querySelector("p.error");
      if (error) {  // the form itself is wrong (a date, a class): say so once and stop the batch
        form.parentNode.insertBefore(error, form);
        shown.state.textContent = error.textContent;
        shown.li.className = "rejected";
        done(false);
        return;
      }
      var first = content.querySelector("tr");
      var status = first ? first.querySelector("td.status") : null;
      shown.bar.value = 100;
      shown.state.textContent = status ? status.textContent : "";
      shown.li.className = first ? first.className : "";
      rows.insertBefore(content, shown.slot);
      done(true);
    });
    xhr.send(data);
  }

  form.addEventListener("submit", function (e) {
    if (!window.FormData || !window.XMLHttpRequest || !input.files.length) { return; }
    e.preventDefault();
    var files = Array.prototype.slice.call(input.files, 0, maxFiles);
    form.querySelectorAll("p.error").forEach(function (p) { p.remove(); });
    document.querySelectorAll("main > p.error").forEach(function (p) { p.remove(); });
    list.textContent = "";
    list.hidden = false;
    rows.textContent = "";
    results.hidden = false;
    button.disabled = true;
    var shown = files.map(item);
    var started = 0, finished = 0, active = 0, stopped = false;
    function report() {
      summary.textContent = words.progress.replace("{done}", finished).replace("{total}", files.length);
    }
    function finish() {
      button.disabled = false;
      input.value = "";  // the class, principal and level stay chosen for the next batch
      list.hidden = !stopped;  // all answered: the results table says it all; a stop keeps the lines in view
      showChosen();
      form.classList.add("done");
    }
    function pump() {
      // Two files in flight: one is sealed and indexed while the next one is still being sent.
      while (!stopped && active < PARALLEL && started < files.length) {
        var i = started++;
        active++;
        sendOne(files[i], shown[i], function (ok) {
          active--;
          finished++;
          stopped = stopped || !ok;
          report();
          pump();
        });
      }
      if (active === 0) { finish(); }
    }
    form.classList.remove("done");
    report();
    pump();
  });
}

document.addEventListener("DOMContentLoaded", function () {
  var zone = document.getElementById("dropzone");
  var input = document.getElementById("file-input");
  var chosen = document.getElementById("chosen");
  var form = document.getElementById("upload-form");
  if (!zone || !input || !form) { return; }
  setupUpload(form, input, setupDropzone(zone, input, chosen));
});
