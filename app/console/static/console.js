/* eseal console: small progressive enhancements (no inline scripts; CSP script-src 'self'). */
(function () {
  "use strict";

  function onReady(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  // Seal creation: show only the fields the chosen kind uses.
  function kindFields() {
    var kind = document.getElementById("kind");
    if (!kind) return;
    function update() {
      document.querySelectorAll("[data-for-kinds]").forEach(function (el) {
        var kinds = el.getAttribute("data-for-kinds").split(" ");
        el.hidden = kinds.indexOf(kind.value) < 0;
      });
    }
    kind.addEventListener("change", update);
    update();
  }

  // Signing: placement mode, click-to-place on page thumbnails, PIN box for personal seals.
  function signing() {
    var form = document.getElementById("sign-form");
    if (!form) return;
    var pageField = document.getElementById("place-page");
    var xField = document.getElementById("place-x");
    var yField = document.getElementById("place-y");
    var placed = document.getElementById("placed");

    function mode() {
      var checked = form.querySelector("input[name=mode]:checked");
      return checked ? checked.value : "click";
    }
    function showMode() {
      form.querySelectorAll("[data-mode]").forEach(function (el) {
        el.hidden = el.getAttribute("data-mode") !== mode();
      });
      document.querySelectorAll(".page-frame").forEach(function (frame) {
        frame.classList.toggle("placing", mode() === "click");
      });
    }
    form.querySelectorAll("input[name=mode]").forEach(function (radio) {
      radio.addEventListener("change", showMode);
    });
    showMode();

    var seal = document.getElementById("seal");
    function sizeMarker(frame, marker) {
      // The marker shows the seal at its real size relative to the page.
      var option = seal && seal.options[seal.selectedIndex];
      if (!option) return;
      var img = frame.querySelector("img");
      var perMm = img.clientWidth / parseFloat(frame.getAttribute("data-width-mm"));
      var w = parseFloat(option.getAttribute("data-width-mm")) * perMm;
      var h = parseFloat(option.getAttribute("data-height-mm")) * perMm;
      marker.style.width = w + "px";
      marker.style.height = h + "px";
      marker.style.marginLeft = (-w / 2) + "px";
      marker.style.marginTop = (-h / 2) + "px";
    }

    function place(frame, fx, fy) {
      var widthMm = parseFloat(frame.getAttribute("data-width-mm"));
      var heightMm = parseFloat(frame.getAttribute("data-height-mm"));
      var x = Math.round(fx * widthMm * 10) / 10;
      var y = Math.round(fy * heightMm * 10) / 10;
      pageField.value = frame.getAttribute("data-page");
      xField.value = x.toFixed(1);
      yField.value = y.toFixed(1);
      document.querySelectorAll(".page-frame .marker").forEach(function (m) { m.hidden = true; });
      var marker = frame.querySelector(".marker");
      sizeMarker(frame, marker);
      marker.style.left = (fx * 100) + "%";
      marker.style.top = (fy * 100) + "%";
      marker.hidden = false;
      var lang = document.documentElement.lang;
      placed.textContent = lang === "en"
        ? "Page " + pageField.value + ", " + x.toFixed(1) + " mm from the left, " + y.toFixed(1) + " mm from the top"
        : "第 " + pageField.value + " 页，距左 " + x.toFixed(1) + " 毫米，距上 " + y.toFixed(1) + " 毫米";
      placed.classList.add("ok");
    }

    document.querySelectorAll(".page-frame").forEach(function (frame) {
      var img = frame.querySelector("img");
      img.addEventListener("click", function (event) {
        if (mode() !== "click") return;
        var rect = img.getBoundingClientRect();
        place(frame, (event.clientX - rect.left) / rect.width, (event.clientY - rect.top) / rect.height);
      });
      img.addEventListener("keydown", function (event) {
        if (mode() !== "click") return;
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          place(frame, 0.5, 0.5);
        }
      });
    });

    var pinBox = document.getElementById("pin-box");
    function showPin() {
      if (!seal || !pinBox) return;
      var option = seal.options[seal.selectedIndex];
      pinBox.hidden = !option || option.getAttribute("data-needs-pin") !== "yes";
    }
    if (seal) seal.addEventListener("change", function () {
      showPin();
      document.querySelectorAll(".page-frame").forEach(function (frame) {
        var marker = frame.querySelector(".marker");
        if (!marker.hidden) sizeMarker(frame, marker);
      });
    });
    showPin();
  }

  // Envelope form: each participant row shows the fields of its placement type only.
  function placementRow(select) {
    var row = select.closest("[data-participant-row]");
    if (!row) return;
    row.querySelectorAll("[data-placement]").forEach(function (el) {
      el.hidden = el.getAttribute("data-placement") !== select.value;
    });
  }
  function envelopeRows(root) {
    (root || document).querySelectorAll("select[data-placement-select]").forEach(placementRow);
  }
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.matches && target.matches("select[data-placement-select]")) placementRow(target);
  });
  document.addEventListener("htmx:load", function (event) { envelopeRows(event.target); });

  onReady(function () {
    kindFields();
    signing();
    envelopeRows();
  });
})();
