(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("rating-data").textContent);
  var form = document.getElementById("rate-form");
  var message = document.getElementById("message");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var answers = {};
    form.querySelectorAll("fieldset[data-question]").forEach(function (set) {
      var chosen = Array.prototype.map.call(
        set.querySelectorAll("input:checked"), function (i) { return i.value; });
      var name = set.getAttribute("data-question");
      answers[name] = set.getAttribute("data-multiple") === "true" ? chosen : (chosen[0] || "");
    });
    var body = {rater: document.getElementById("rater").value.trim(), answers: answers};
    fetch(data.url, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify(body)
    }).then(function (r) {
      return r.json().then(function (j) { return {ok: r.ok, body: j}; });
    }).then(function (res) {
      var detail = res.body.detail;
      message.textContent = res.ok
        ? "rating " + res.body.rating_id + " stored for " + res.body.rater
        : (typeof detail === "string" ? detail : JSON.stringify(detail));
      message.className = res.ok ? "" : "missing";
    });
  });
})();
