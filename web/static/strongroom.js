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
    return { li: li, bar: bar, state: state };
  }

  function localRow(file, status, reason) {
    var tr = document.createElement("tr");
    tr.className = "rejected";
    [file.name, status, "", reason].forEach(function (text) {
      var td = document.createElement("td");
      td.textContent = text;
      tr.appendChild(td);
    });
    rows.appendChild(tr);
  }

  function sendOne(file, shown, done) {
    if (maxBytes && file.size > maxBytes) {
      shown.bar.value = 100;
      shown.state.textContent = words.tooLarge;
      shown.li.className = "rejected";
      localRow(file, words.rejected, words.tooLarge);
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
      localRow(file, words.rejected, words.failed);
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
      rows.appendChild(content);
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
    var index = 0;
    function report() {
      summary.textContent = words.progress.replace("{done}", index).replace("{total}", files.length);
    }
    function next(goOn) {
      report();
      if (!goOn || index >= files.length) {
        button.disabled = false;
        input.value = "";  // the class, principal and level stay chosen for the next batch
        list.hidden = goOn;  // all answered: the results table says it all; a stop keeps the lines in view
        showChosen();
        form.classList.add("done");
        return;
      }
      var i = index;
      sendOne(files[i], shown[i], function (ok) { index = i + 1; next(ok); });
    }
    form.classList.remove("done");
    next(true);
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
