// manyi: a little plain JavaScript — job progress, drag and drop, select all. No library.
(function () {
  "use strict";
  // A job's page polls /jobs/<id>.json until the job is finished, then reloads once.
  var job = document.querySelector("[data-job-poll]");
  if (job) {
    var url = job.getAttribute("data-job-poll");
    var bar = job.querySelector(".bar > div"), text = job.querySelector("[data-job-text]");
    var tick = function () {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (bar) { bar.style.width = s.percent + "%"; }
          if (text) { text.textContent = (s.phase ? s.phase + "：" : "") + (s.total ? ("已完成 " + s.done + " / " + s.total) : (s.state === "waiting" ? "排队中…" : "处理中…")); }
          if (s.state === "done" || s.state === "failed" || s.state === "interrupted") { window.location.reload(); } else { setTimeout(tick, 700); }
        })
        .catch(function () { setTimeout(tick, 2000); });
    };
    tick();
  }
  // Drag and drop onto a .drop zone fills its file input (folders too, where the browser gives them).
  document.querySelectorAll(".drop").forEach(function (zone) {
    var input = zone.querySelector("input[type=file]"), list = zone.querySelector("[data-drop-list]");
    var show = function (files) { if (list) { list.textContent = files.length ? ("已选择 " + files.length + " 个文件") : ""; } };
    ["dragenter", "dragover"].forEach(function (e) { zone.addEventListener(e, function (ev) { ev.preventDefault(); zone.classList.add("over"); }); });
    ["dragleave", "drop"].forEach(function (e) { zone.addEventListener(e, function () { zone.classList.remove("over"); }); });
    zone.addEventListener("drop", function (ev) {
      ev.preventDefault();
      var items = ev.dataTransfer.items, collected = [], pending = 0;
      var done = function () {
        var dt = new DataTransfer();
        collected.forEach(function (f) { dt.items.add(f); });
        input.files = dt.files; show(collected);
        input.dispatchEvent(new Event("change"));
      };
      var walk = function (entry, path) {
        pending++;
        if (entry.isFile) {
          entry.file(function (f) {
            collected.push(new File([f], path + f.name, {type: f.type, lastModified: f.lastModified}));
            if (--pending === 0) { done(); }
          });
        } else if (entry.isDirectory) {
          var reader = entry.createReader(), all = [];
          var more = function () {
            reader.readEntries(function (batch) {
              if (batch.length) { all = all.concat(batch); more(); return; }
              all.forEach(function (child) { walk(child, path + entry.name + "/"); });
              if (--pending === 0) { done(); }
            });
          };
          more();
        } else if (--pending === 0) { done(); }
      };
      var entries = [];
      for (var i = 0; items && i < items.length; i++) {
        var en = items[i].webkitGetAsEntry ? items[i].webkitGetAsEntry() : null;
        if (en) { entries.push(en); }
      }
      if (entries.length) { entries.forEach(function (en) { walk(en, ""); }); }
      else { input.files = ev.dataTransfer.files; show(input.files); }  // files only (no folder entries given)
    });
    if (input) { input.addEventListener("change", function () { show(input.files); }); }
  });
  // A folder picker beside the file picker sends its files with their relative paths.
  document.querySelectorAll("[data-folder-for]").forEach(function (picker) {
    picker.addEventListener("change", function () {
      var target = document.getElementById(picker.getAttribute("data-folder-for"));
      var dt = new DataTransfer();
      Array.prototype.forEach.call(target.files, function (f) { dt.items.add(f); });
      Array.prototype.forEach.call(picker.files, function (f) {
        dt.items.add(new File([f], f.webkitRelativePath || f.name, {type: f.type, lastModified: f.lastModified}));
      });
      target.files = dt.files; picker.value = "";
      target.dispatchEvent(new Event("change"));
    });
  });
  // "Select all" boxes of the list.
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      document.querySelectorAll("input[name=" + box.getAttribute("data-select-all") + "]").forEach(function (b) { b.checked = box.checked; });
    });
  });
  // Confirm buttons that change many applicants at once.
  document.querySelectorAll("[data-confirm]").forEach(function (el) {
    el.addEventListener("click", function (ev) { if (!window.confirm(el.getAttribute("data-confirm"))) { ev.preventDefault(); } });
  });
  // A file input marked .zh-file gets a Chinese button and the names chosen: the browser's own
  // "Choose Files / No file chosen" follows its interface language, which an applicant may not read.
  document.querySelectorAll("input.zh-file").forEach(function (input) {
    var pick = document.createElement("button"), shown = document.createElement("span");
    pick.type = "button";
    pick.className = "file-pick plain";
    pick.textContent = input.hasAttribute("webkitdirectory") ? "选择文件夹" : "选择文件";
    shown.className = "file-chosen muted";
    shown.textContent = "未选择";
    input.classList.add("file-hidden");
    input.parentNode.insertBefore(pick, input);
    input.parentNode.insertBefore(shown, input.nextSibling);
    pick.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", function () {
      var n = input.files.length;
      shown.textContent = n === 0 ? "未选择" : (n === 1 ? input.files[0].name : "已选 " + n + " 个文件");
    });
  });
  // "Back" links go one page back (no javascript: link: the Content-Security-Policy allows no inline script).
  document.querySelectorAll("[data-back]").forEach(function (el) {
    el.addEventListener("click", function (ev) { if (window.history.length > 1) { ev.preventDefault(); window.history.back(); } });
  });
})();
