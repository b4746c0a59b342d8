// The demo address site: searches the bundled data set and renders results with JavaScript only.
(function () {
  "use strict";

  var root = document.documentElement;
  var DATA = window.SEARCHADDR_DATA;
  var ADDRESS_FIELDS = ["road_address", "jibun_address", "english_address", "zip", "building",
                        "sido", "sigungu", "eupmyeondong"];
  var MAX_PER_PAGE = 100;
  var MAX_LATENCY_MS = 60000;
  var DEFAULT_LATENCY_MS = 20;

  var latencyMs = readLatency(new URLSearchParams(window.location.search).get("latency"));
  var sequence = 0;
  var pendingTimer = null;

  function readLatency(value) {
    if (value === null || !/^\d{1,6}$/.test(value)) return DEFAULT_LATENCY_MS;
    return Math.min(Number(value), MAX_LATENCY_MS);
  }

  function joinWords(parts) {
    return parts.filter(function (p) { return p; }).join(" ");
  }

  // Mirrors expand() in generate.py.
  function expand(row) {
    var dong = DATA.dongs[row[1]];
    var sigungu = DATA.sigungu[dong[0]];
    var sido = DATA.sido[sigungu[0]];
    var road = DATA.roads[row[2]];
    var ri = row[5] >= 0 ? DATA.ri[row[5]] : "";
    var english = [row[3] + " " + road[1], dong[2], sigungu[2], sido[1]]
      .filter(function (p) { return p; }).join(", ");
    return {
      id: row[0],
      road_address: joinWords([sido[0], sigungu[1], road[0], row[3]]),
      jibun_address: joinWords([sido[0], sigungu[1], dong[1], ri, row[4]]),
      english_address: english,
      zip: row[6],
      building: row[7],
      sido: sido[0],
      sigungu: sigungu[1],
      eupmyeondong: dong[1],
      lat: row[8],
      lng: row[9],
      admin_code: dong[3]
    };
  }

  function normalize(text) {
    return String(text).normalize("NFC").toLowerCase();
  }

  function tokenize(query) {
    return normalize(query).trim().split(/\s+/).filter(function (t) { return t; });
  }

  var addresses = [];
  var haystacks = [];
  var byId = new Map();

  function loadData() {
    if (!DATA || !Array.isArray(DATA.records)) throw new Error("주소 데이터를 읽지 못했습니다.");
    for (var i = 0; i < DATA.records.length; i++) {
      var address = expand(DATA.records[i]);
      addresses.push(address);
      haystacks.push(normalize([address.road_address, address.jibun_address, address.building,
                                address.english_address].join("\n")));
      byId.set(address.id, address);
    }
  }

  // Every token must occur in the road, jibun, building or English address; data order is stable.
  function search(query) {
    var tokens = tokenize(query);
    var matches = [];
    if (!tokens.length) return matches;
    for (var i = 0; i < haystacks.length; i++) {
      var text = haystacks[i];
      var all = true;
      for (var t = 0; t < tokens.length; t++) {
        if (text.indexOf(tokens[t]) === -1) { all = false; break; }
      }
      if (all) matches.push(addresses[i]);
    }
    return matches;
  }

  function element(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (key) {
      if (key === "text") node.textContent = attributes[key];
      else node.setAttribute(key, attributes[key]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function fieldNode(tag, name, value, className) {
    return element(tag, {"data-field": name, "class": className || name, text: value});
  }

  function parseWhole(value, low, high) {
    if (!/^\s*\d{1,6}\s*$/.test(String(value))) return null;
    var number = Number(value);
    return number >= low && number <= high ? number : null;
  }

  // Starts one query: a new sequence number, the echo of what was asked, then the work after latencyMs.
  function startRequest(box, echo, work) {
    if (pendingTimer !== null) clearTimeout(pendingTimer);  // a newer query supersedes the pending one
    var seq = ++sequence;
    root.dataset.pendingSeq = String(seq);
    box.dataset.seq = String(seq);
    box.dataset.status = "loading";
    Object.keys(echo).forEach(function (key) { box.dataset[key] = echo[key]; });
    ["total", "elapsedMs", "totalMs", "message"].forEach(function (key) { delete box.dataset[key]; });
    box.setAttribute("aria-busy", "true");
    box.replaceChildren(element("p", {"class": "hint loading", text: "불러오는 중…"}));
    var startMark = "searchaddr-start-" + seq;
    performance.mark(startMark);

    pendingTimer = setTimeout(function () {
      pendingTimer = null;
      var workMark = "searchaddr-work-" + seq;
      var endMark = "searchaddr-end-" + seq;
      performance.mark(workMark);
      var status;
      try {
        status = work();
      } catch (error) {
        status = "error";
        box.dataset.message = String(error && error.message || error);
        box.replaceChildren(element("p", {"class": "error", text: box.dataset.message}));
      }
      performance.mark(endMark);
      var elapsed = performance.measure("searchaddr-work-" + seq, workMark, endMark).duration;
      var total = performance.measure("searchaddr-total-" + seq, startMark, endMark).duration;
      [startMark, workMark, endMark].forEach(function (m) { performance.clearMarks(m); });
      performance.clearMeasures("searchaddr-work-" + seq);
      performance.clearMeasures("searchaddr-total-" + seq);
      box.dataset.elapsedMs = elapsed.toFixed(3);
      box.dataset.totalMs = total.toFixed(3);
      box.removeAttribute("aria-busy");
      box.dataset.status = status;  // set last: readers wait for this attribute
      box.dispatchEvent(new CustomEvent("searchaddr:rendered",
                                        {bubbles: true, detail: {seq: seq, status: status}}));
    }, latencyMs);
  }

  function renderSearch(box, query, page, perPage) {
    if (page === null) throw new Error("페이지는 1 이상의 정수여야 합니다.");
    if (perPage === null) throw new Error("페이지당 개수는 1부터 " + MAX_PER_PAGE + "까지입니다.");
    if (!tokenize(query).length) throw new Error("검색어를 입력하세요.");
    var matches = search(query);
    var pageRows = matches.slice((page - 1) * perPage, page * perPage);
    var pages = Math.max(1, Math.ceil(matches.length / perPage));
    box.dataset.total = String(matches.length);

    var summary = element("p", {"class": "summary"}, [
      element("span", {text: "“" + query.trim() + "” 검색 결과 "}),
      element("strong", {"class": "total", text: matches.length.toLocaleString("ko-KR")}),
      element("span", {text: "건 · " + page + " / " + pages + " 페이지"})
    ]);
    var children = [summary];
    if (!pageRows.length) {
      children.push(element("p", {"class": "empty",
        text: matches.length ? "이 페이지에는 결과가 없습니다." : "검색 결과가 없습니다."}));
    } else {
      var body = element("tbody", {}, pageRows.map(function (a) {
        return element("tr", {"class": "address", "data-id": a.id}, [
          element("td", {"class": "col-zip"}, [fieldNode("span", "zip", a.zip)]),
          element("td", {"class": "col-address"}, [
            fieldNode("div", "road_address", a.road_address),
            element("div", {"class": "jibun"}, [
              element("span", {"class": "tag", text: "지번"}),
              fieldNode("span", "jibun_address", a.jibun_address)
            ]),
            fieldNode("div", "english_address", a.english_address)
          ]),
          element("td", {"class": "col-building"}, [fieldNode("span", "building", a.building)]),
          element("td", {"class": "col-region"}, [
            fieldNode("span", "sido", a.sido), document.createTextNode(" "),
            fieldNode("span", "sigungu", a.sigungu), document.createTextNode(" "),
            fieldNode("span", "eupmyeondong", a.eupmyeondong)
          ]),
          element("td", {"class": "col-link"}, [
            element("a", {"href": "#id=" + a.id, "class": "detail-link", text: "상세"})
          ])
        ]);
      }));
      var head = element("thead", {}, [element("tr", {}, ["우편번호", "주소", "건물명", "지역", ""]
        .map(function (label) { return element("th", {text: label}); }))]);
      children.push(element("table", {"class": "results-table"}, [head, body]));
    }
    children.push(pager(page, pages));
    box.replaceChildren.apply(box, children);
    return "ok";
  }

  function pager(page, pages) {
    var nav = element("nav", {"class": "pager", "aria-label": "페이지"});
    [["이전", page - 1], ["다음", page + 1]].forEach(function (item) {
      var button = element("button", {"type": "button", text: item[0]});
      button.disabled = item[1] < 1 || item[1] > pages;
      button.addEventListener("click", function () {
        searchForm.elements.page.value = String(item[1]);
        searchForm.requestSubmit();
      });
      nav.appendChild(button);
    });
    return nav;
  }

  function renderDetail(box, id) {
    var address = byId.get(id);
    if (!address) {
      box.replaceChildren(element("p", {"class": "empty", text: "주소를 찾을 수 없습니다 (not found)."}));
      return "not-found";
    }
    var labels = {road_address: "도로명주소", jibun_address: "지번주소", english_address: "영문주소",
                  zip: "우편번호", building: "건물명", sido: "시도", sigungu: "시군구",
                  eupmyeondong: "읍면동", lat: "위도", lng: "경도", admin_code: "행정구역코드"};
    var list = element("dl", {"class": "detail-list", "data-id": address.id});
    ADDRESS_FIELDS.concat(["lat", "lng", "admin_code"]).forEach(function (name) {
      list.appendChild(element("dt", {text: labels[name]}));
      list.appendChild(element("dd", {}, [fieldNode("span", name, String(address[name]))]));
    });
    box.replaceChildren(element("h2", {text: address.building || address.road_address}), list);
    return "ok";
  }

  var searchForm = document.getElementById("search-form");
  var detailForm = document.getElementById("detail-form");
  var resultsBox = document.getElementById("results");
  var detailBox = document.getElementById("detail");

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var query = searchForm.elements.q.value;
    var pageText = searchForm.elements.page.value;
    var perPageText = searchForm.elements.per_page.value;
    startRequest(resultsBox, {query: query, page: pageText, perPage: perPageText}, function () {
      return renderSearch(resultsBox, query, parseWhole(pageText, 1, 1000000),
                          parseWhole(perPageText, 1, MAX_PER_PAGE));
    });
  });

  detailForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var id = detailForm.elements.id.value;
    startRequest(detailBox, {id: id}, function () { return renderDetail(detailBox, id); });
  });

  function showDetailFromHash() {
    var match = /^#id=([A-Za-z0-9_-]{1,64})$/.exec(window.location.hash);
    if (!match) return;
    detailForm.elements.id.value = match[1];
    detailForm.requestSubmit();
    detailBox.scrollIntoView({block: "nearest"});
  }

  try {
    loadData();
    root.dataset.records = String(addresses.length);
    root.dataset.searchaddr = "ready";
  } catch (error) {
    root.dataset.searchaddr = "error";
    resultsBox.dataset.status = "error";
    resultsBox.replaceChildren(element("p", {"class": "error", text: String(error.message || error)}));
  }
  window.addEventListener("hashchange", showDetailFromHash);
  document.dispatchEvent(new CustomEvent("searchaddr:ready", {detail: {state: root.dataset.searchaddr}}));
  if (root.dataset.searchaddr === "ready") {
    var initialQuery = new URLSearchParams(window.location.search).get("q");
    if (initialQuery) {
      searchForm.elements.q.value = initialQuery;
      searchForm.requestSubmit();
    }
    showDetailFromHash();
  }
})();
