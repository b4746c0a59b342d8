/*
 * searchaddr widget: turns a text input into a Korean address search backed by the
 * searchaddr service. No dependencies.
 *
 *   <script src="/assets/searchaddr/searchaddr.js" defer
 *           data-api="https://addr.example.com"
 *           data-input="#address"
 *           data-zip="#zip" data-road-address="#road" data-english-address="#english"
 *           data-lat="#lat" data-lng="#lng"></script>
 *
 * Optional attributes: data-jibun-address, data-building, data-admin-code (more fields
 * to fill), data-per-page (default 10), data-debounce (ms, default 250),
 * data-timeout (ms, default 15000), data-lang ("ko" or "en"; default: the page's lang).
 *
 * Events dispatched on the input (they bubble): "searchaddr:results",
 * "searchaddr:select" (detail.result is the chosen address), "searchaddr:retry" and
 * "searchaddr:error".
 *
 * A 503 with Retry-After (the service is busy or restarting) is retried once, after the time
 * it names (at most 10 s), and only while the visitor still wants that answer; a second 503,
 * or new text in the box, ends it.
 * The browser's performance timeline gets "searchaddr:search" and "searchaddr:detail"
 * measures (request sent -> list shown, choice -> fields filled).
 */
(function () {
  'use strict';

  var MIN_QUERY = 2;   // the service rejects shorter queries
  var MAX_QUERY = 80;  // and longer ones
  var MAX_RETRY_WAIT_MS = 10000;  // a longer Retry-After is not waited for: the error shows
  var FILLABLE_FIELDS = {
    zip: 'zip',
    roadAddress: 'road_address',
    jibunAddress: 'jibun_address',
    englishAddress: 'english_address',
    building: 'building',
    lat: 'lat',
    lng: 'lng',
    adminCode: 'admin_code'
  };

  var MESSAGES = {
    en: {
      tooShort: 'Type at least 2 characters.',
      tooLong: 'Use at most 80 characters.',
      searching: 'Searching…',
      count: '{shown} of {total} addresses. Use the up and down arrow keys to choose one.',
      countMore: '{shown} of {total} addresses; type more to narrow the list.',
      none: 'No address matches “{q}”.',
      loadingDetail: 'Loading the address…',
      selected: 'Selected: {road} ({zip}).',
      invalid: 'The address service did not accept the search: {message}',
      notAllowed: 'The address service at {api} does not accept requests from this page ({origin}).',
      addressGone: 'That address is no longer available. Search again.',
      notFound: 'No address service was found at {api}.',
      clientError: 'The address service refused the request (HTTP {status}).',
      busy: 'The address service is busy. Try again in a few seconds.',
      upstreamTimeout: 'The address source did not answer in time. Try again.',
      upstreamError: 'The address source is failing right now. Try again later.',
      serverError: 'The address service failed (HTTP {status}). Try again later.',
      timeout: 'The address service did not answer within {seconds} seconds.',
      offline: 'You are offline. Check your connection and try again.',
      network: 'Cannot reach the address service at {api}.',
      cors: 'The browser blocked the call: the address service at {api} does not allow this page ({origin}).',
      badResponse: 'The address service sent an answer that could not be read.'
    },
    ko: {
      tooShort: '2글자 이상 입력하세요.',
      tooLong: '80글자 이하로 입력하세요.',
      searching: '검색 중…',
      count: '주소 {total}건 중 {shown}건. 위아래 화살표 키로 고르세요.',
      countMore: '주소 {total}건 중 {shown}건. 더 입력하면 좁혀집니다.',
      none: '“{q}”에 맞는 주소가 없습니다.',
      loadingDetail: '주소를 불러오는 중…',
      selected: '선택됨: {road} ({zip})',
      invalid: '주소 서비스가 검색어를 받지 않았습니다: {message}',
      notAllowed: '{api}의 주소 서비스가 이 페이지({origin})의 요청을 허용하지 않습니다.',
      addressGone: '이 주소는 더 이상 없습니다. 다시 검색하세요.',
      notFound: '{api}에서 주소 서비스를 찾을 수 없습니다.',
      clientError: '주소 서비스가 요청을 거부했습니다 (HTTP {status}).',
      busy: '주소 서비스가 바쁩니다. 잠시 후 다시 시도하세요.',
      upstreamTimeout: '주소 원본 사이트가 제때 응답하지 않았습니다. 다시 시도하세요.',
      upstreamError: '주소 원본 사이트에 문제가 있습니다. 나중에 다시 시도하세요.',
      serverError: '주소 서비스에 오류가 났습니다 (HTTP {status}). 나중에 다시 시도하세요.',
      timeout: '주소 서비스가 {seconds}초 안에 응답하지 않았습니다.',
      offline: '오프라인 상태입니다. 연결을 확인하고 다시 시도하세요.',
      network: '{api}의 주소 서비스에 연결할 수 없습니다.',
      cors: '브라우저가 호출을 막았습니다: {api}의 주소 서비스가 이 페이지({origin})를 허용하지 않습니다.',
      badResponse: '주소 서비스의 응답을 읽을 수 없습니다.'
    }
  };

  var instanceCount = 0;

  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  function cleanQuery(value) {
    // The service rejects control characters; pasted tabs become spaces.
    return value.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  }

  function codePointLength(text) {
    return Array.from(text).length;
  }

  function RequestFailure(kind, details) {
    this.kind = kind;
    this.retryAfterMs = details.retryAfterMs === undefined ? null : details.retryAfterMs;
    this.status = details.status || 0;
    this.code = details.code || '';
    this.serverMessage = details.message || '';
  }

  // Retry-After as milliseconds (delta-seconds or an HTTP date), or null when absent or unreadable.
  function retryAfterMs(value) {
    if (!value) return null;
    if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
    var at = Date.parse(value);
    return isNaN(at) ? null : Math.max(0, at - Date.now());
  }

  function failureForStatus(status, error, retryAfter) {
    var code = (error && error.code) || '';
    var details = {status: status, code: code, message: (error && error.message) || '',
                   retryAfterMs: retryAfterMs(retryAfter)};
    if (status === 400) return new RequestFailure('invalid', details);
    if (status === 403) return new RequestFailure('notAllowed', details);
    if (status === 404) return new RequestFailure(code === 'address_not_found' ? 'addressGone' : 'notFound', details);
    if (status === 502) return new RequestFailure('upstreamError', details);
    if (status === 503) return new RequestFailure('busy', details);
    if (status === 504) return new RequestFailure('upstreamTimeout', details);
    if (status >= 500) return new RequestFailure('serverError', details);
    return new RequestFailure('clientError', details);
  }

  function SearchAddr(input, options) {
    this.input = input;
    this.api = options.api.replace(/\/+$/, '');
    this.fieldSelectors = options.fields || {};
    this.perPage = options.perPage || 10;
    this.debounceMs = options.debounceMs === undefined ? 250 : options.debounceMs;
    this.timeoutMs = options.timeoutMs || 15000;
    this.messages = MESSAGES[options.lang] || MESSAGES.en;

    this.results = [];
    this.activeIndex = -1;
    this.composing = false;
    this.debounceTimer = null;
    this.searchRequest = null;   // {controller, query} of the search in flight
    this.detailRequest = null;
    this.shownQuery = null;      // the query whose results are in the list
    this.lastInputAt = 0;
    this.filled = false;

    instanceCount += 1;
    this.idPrefix = 'searchaddr-' + instanceCount;
    this.buildDom();
    this.bindEvents();
  }

  SearchAddr.prototype.buildDom = function () {
    var input = this.input;
    var panel = document.createElement('div');
    panel.className = 'searchaddr-panel';

    var list = document.createElement('ul');
    list.id = this.idPrefix + '-list';
    list.className = 'searchaddr-list';
    list.setAttribute('role', 'listbox');
    list.hidden = true;
    if (input.labels && input.labels.length) {
      if (!input.labels[0].id) input.labels[0].id = this.idPrefix + '-label';
      list.setAttribute('aria-labelledby', input.labels[0].id);
    } else {
      list.setAttribute('aria-label', input.getAttribute('aria-label') || 'Addresses');
    }

    var status = document.createElement('p');
    status.id = this.idPrefix + '-status';
    status.className = 'searchaddr-status';
    status.setAttribute('role', 'status');

    panel.appendChild(list);
    panel.appendChild(status);
    input.insertAdjacentElement('afterend', panel);

    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', list.id);
    var describedBy = input.getAttribute('aria-describedby');
    input.setAttribute('aria-describedby', describedBy ? describedBy + ' ' + status.id : status.id);
    input.setAttribute('autocomplete', 'off');
    input.setAttribute('spellcheck', 'false');
    input.classList.add('searchaddr-input');

    this.panel = panel;
    this.list = list;
    this.status = status;
  };

  SearchAddr.prototype.bindEvents = function () {
    var self = this;
    this.input.addEventListener('compositionstart', function () {
      self.composing = true;
      self.cancelPendingSearch();
    });
    this.input.addEventListener('compositionend', function () {
      self.composing = false;
      self.onTextChanged();
    });
    this.input.addEventListener('input', function (event) {
      if (self.composing || event.isComposing) return;  // wait for compositionend
      self.onTextChanged();
    });
    this.input.addEventListener('keydown', function (event) { self.onKeyDown(event); });
    this.input.addEventListener('blur', function () { self.close(); });
    this.input.addEventListener('focus', function () {
      if (self.results.length && self.shownQuery === cleanQuery(self.input.value)) self.open();
    });
    // mousedown would blur the input (closing the list) before the click lands.
    this.list.addEventListener('mousedown', function (event) { event.preventDefault(); });
    this.list.addEventListener('click', function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) self.choose(Number(option.getAttribute('data-index')));
    });
    this.list.addEventListener('mousemove', function (event) {
      var option = event.target.closest('[role="option"]');
      if (option) self.setActive(Number(option.getAttribute('data-index')), false);
    });
  };

  SearchAddr.prototype.onTextChanged = function () {
    this.lastInputAt = performance.now();
    if (this.detailRequest) {
      clearTimeout(this.detailRequest.retryTimer);
      this.detailRequest.controller.abort();  // its address no longer matches the text
      this.detailRequest = null;
    }
    if (this.filled) this.clearFields();
    if (this.searchRequest && this.searchRequest.query !== cleanQuery(this.input.value)) {
      this.abortSearch();  // its answer would be for text that is no longer there
    }
    this.cancelPendingSearch();
    var self = this;
    this.debounceTimer = setTimeout(function () {
      self.debounceTimer = null;
      self.search();
    }, this.debounceMs);
  };

  SearchAddr.prototype.cancelPendingSearch = function () {
    if (this.debounceTimer !== null) {
      clearTimeout(this.debounceTimer);
      this.debounceTimer = null;
    }
  };

  SearchAddr.prototype.onKeyDown = function (event) {
    // Keys pressed while an IME composes belong to the IME (Enter commits a syllable).
    if (event.isComposing || event.keyCode === 229) return;
    var isOpen = !this.list.hidden;
    switch (event.key) {
      case 'ArrowDown':
        event.preventDefault();
        if (!isOpen) {
          if (this.results.length && this.shownQuery === cleanQuery(this.input.value)) this.open();
          else if (this.debounceTimer === null) this.search();
          return;
        }
        this.setActive(this.activeIndex + 1 >= this.results.length ? 0 : this.activeIndex + 1, true);
        break;
      case 'ArrowUp':
        if (!isOpen) return;
        event.preventDefault();
        this.setActive(this.activeIndex <= 0 ? this.results.length - 1 : this.activeIndex - 1, true);
        break;
      case 'Enter':
        if (isOpen && this.activeIndex >= 0) {
          event.preventDefault();  // choosing an address must not submit the form
          this.choose(this.activeIndex);
        }
        break;
      case 'Escape':
        if (isOpen) {
          event.preventDefault();
          this.close();
        }
        break;
      case 'Tab':
        this.close();
        break;
    }
  };

  SearchAddr.prototype.search = function () {
    var query = cleanQuery(this.input.value);
    var length = codePointLength(query);
    if (length < MIN_QUERY || length > MAX_QUERY) {
      this.abortSearch();
      this.showResults(null, []);
      this.say(length === 0 ? '' : (length < MIN_QUERY ? this.messages.tooShort : this.messages.tooLong));
      return;
    }
    if (this.searchRequest && this.searchRequest.query === query) return;  // already asked
    if (query === this.shownQuery && this.results.length) {
      this.open();
      return;
    }
    this.abortSearch();
    var request = {controller: new AbortController(), query: query, timedOut: false};
    this.searchRequest = request;
    var startedAt = performance.now();
    var inputAt = this.lastInputAt || startedAt;
    this.setBusy(true);
    this.say(this.messages.searching);

    var self = this;
    var isCurrent = function () {
      return self.searchRequest === request && cleanQuery(self.input.value) === query;
    };
    this.send('/searchaddr1', {q: query, page: 1, per_page: this.perPage}, request, isCurrent)
      .then(function (data) {
        if (self.searchRequest !== request) return;  // a newer search replaced this one
        self.searchRequest = null;
        self.setBusy(false);
        var results = Array.isArray(data.results) ? data.results : [];
        self.showResults(query, results);
        if (!results.length) {
          self.say(format(self.messages.none, {q: query}));
        } else {
          var total = typeof data.total === 'number' ? data.total : results.length;
          var template = total > results.length ? self.messages.countMore : self.messages.count;
          self.say(format(template, {shown: results.length, total: total}));
        }
        var shownAt = performance.now();
        self.measure('searchaddr:search', startedAt, shownAt, {query: query});
        self.measure('searchaddr:input-to-results', inputAt, shownAt, {query: query});
        self.emit('searchaddr:results', {
          query: query, total: data.total, results: results,
          requestMs: shownAt - startedAt, inputMs: shownAt - inputAt
        });
      }, function (failure) {
        if (self.searchRequest !== request) return;
        self.searchRequest = null;
        self.setBusy(false);
        if (failure.kind === 'aborted') return;
        self.showResults(null, []);
        self.fail(failure);
      });
  };

  SearchAddr.prototype.abortSearch = function () {
    if (this.searchRequest) {
      var request = this.searchRequest;
      this.searchRequest = null;
      this.setBusy(false);
      clearTimeout(request.retryTimer);
      request.controller.abort();
    }
  };

  SearchAddr.prototype.choose = function (index) {
    var address = this.results[index];
    if (!address) return;
    this.close();
    this.input.value = address.road_address;
    this.shownQuery = cleanQuery(this.input.value);
    if (this.detailRequest) {
      clearTimeout(this.detailRequest.retryTimer);
      this.detailRequest.controller.abort();
    }
    var request = {controller: new AbortController(), timedOut: false};
    this.detailRequest = request;
    var startedAt = performance.now();
    this.say(this.messages.loadingDetail);

    var self = this;
    var isCurrent = function () { return self.detailRequest === request; };
    this.send('/searchaddr2', {id: address.id}, request, isCurrent)
      .then(function (data) {
        if (self.detailRequest !== request) return;
        self.detailRequest = null;
        var result = data.result;
        if (!result || typeof result !== 'object') {
          self.fail(new RequestFailure('badResponse', {}));
          return;
        }
        self.fillFields(result);
        self.say(format(self.messages.selected, {road: result.road_address, zip: result.zip}));
        var filledAt = performance.now();
        self.measure('searchaddr:detail', startedAt, filledAt, {id: address.id});
        self.emit('searchaddr:select', {result: result, requestMs: filledAt - startedAt});
      }, function (failure) {
        if (self.detailRequest !== request) return;
        self.detailRequest = null;
        if (failure.kind !== 'aborted') self.fail(failure);
      });
  };

  // post(), and once more after Retry-After when the service answered 503 with one (busy, or
  // restarting: nginx answers so while no worker can) and `isCurrent()` still holds then.
  SearchAddr.prototype.send = function (path, body, request, isCurrent) {
    var self = this;
    return this.post(path, body, request).catch(function (failure) {
      var waitMs = failure.retryAfterMs;
      if (failure.kind !== 'busy' || request.retried || waitMs === null ||
          waitMs > MAX_RETRY_WAIT_MS || !isCurrent()) {
        throw failure;
      }
      request.retried = true;
      self.emit('searchaddr:retry', {path: path, waitMs: waitMs, status: failure.status});
      return new Promise(function (resolve, reject) {
        // abortSearch() and new text clear this timer; the promise then never settles.
        request.retryTimer = setTimeout(function () {
          request.retryTimer = null;
          if (!isCurrent()) {
            reject(new RequestFailure('aborted', {}));
            return;
          }
          request.controller = new AbortController();
          request.timedOut = false;
          self.post(path, body, request).then(resolve, reject);
        }, waitMs);
      });
    });
  };

  SearchAddr.prototype.post = function (path, body, request) {
    var self = this;
    var timer = setTimeout(function () {
      request.timedOut = true;
      request.controller.abort();
    }, this.timeoutMs);
    // JSON makes this a non-simple request: the browser sends a CORS preflight first.
    return fetch(this.api + path, {
      method: 'POST',
      mode: 'cors',
      credentials: 'omit',
      cache: 'no-store',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(body),
      signal: request.controller.signal
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = JSON.parse(text); } catch (ignored) { /* reported below */ }
        if (!response.ok) throw failureForStatus(response.status, data && data.error, response.headers.get('Retry-After'));
        if (!data || typeof data !== 'object') throw new RequestFailure('badResponse', {status: response.status});
        return data;
      });
    }).catch(function (error) {
      if (error instanceof RequestFailure) throw error;
      if (request.timedOut) throw new RequestFailure('timeout', {});
      if (request.controller.signal.aborted) throw new RequestFailure('aborted', {});
      return self.explainFetchFailure().then(function (failure) { throw failure; });
    }).finally(function () {
      clearTimeout(timer);
    });
  };

  // fetch() reports a CORS refusal and an unreachable server the same way. An opaque
  // (no-cors) request tells them apart: it succeeds when the server answers at all.
  SearchAddr.prototype.explainFetchFailure = function () {
    if (navigator.onLine === false) return Promise.resolve(new RequestFailure('offline', {}));
    var api = this.api;
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, 5000);
    return fetch(api + '/healthz', {
      mode: 'no-cors', credentials: 'omit', cache: 'no-store', signal: controller.signal
    }).then(function () {
      console.warn('searchaddr: the browser blocked the answer from ' + api + ' (CORS). Either ' +
                   location.origin + ' is missing from [cors] origins in the service\'s config, ' +
                   'or something in front of the service answered without CORS headers ' +
                   '(for example nginx while the service is down).');
      return new RequestFailure('cors', {});
    }, function () {
      return new RequestFailure('network', {});
    }).finally(function () {
      clearTimeout(timer);
    });
  };

  SearchAddr.prototype.fail = function (failure) {
    var template = this.messages[failure.kind] || this.messages.badResponse;
    var text = format(template, {
      api: this.api, origin: location.origin, status: failure.status,
      message: failure.serverMessage || ('HTTP ' + failure.status),
      seconds: Math.round(this.timeoutMs / 1000)
    });
    this.say(text, failure.kind);
    this.emit('searchaddr:error', {
      kind: failure.kind, status: failure.status, code: failure.code, message: text
    });
  };

  SearchAddr.prototype.showResults = function (query, results) {
    this.results = results;
    this.shownQuery = query;
    this.activeIndex = -1;
    this.input.removeAttribute('aria-activedescendant');
    while (this.list.firstChild) this.list.removeChild(this.list.firstChild);
    for (var i = 0; i < results.length; i++) {
      this.list.appendChild(this.renderOption(results[i], i));
    }
    if (results.length && document.activeElement === this.input) this.open();
    else this.close();
  };

  SearchAddr.prototype.renderOption = function (address, index) {
    // textContent only: the answers come from another site and are never parsed as HTML.
    var option = document.createElement('li');
    option.id = this.idPrefix + '-option-' + index;
    option.className = 'searchaddr-option';
    option.setAttribute('role', 'option');
    option.setAttribute('aria-selected', 'false');
    option.setAttribute('data-index', String(index));
    option.setAttribute('data-id', address.id);

    var road = document.createElement('span');
    road.className = 'searchaddr-road';
    road.textContent = address.road_address;
    var zip = document.createElement('span');
    zip.className = 'searchaddr-zip';
    zip.textContent = address.zip;
    var jibun = document.createElement('span');
    jibun.className = 'searchaddr-jibun';
    jibun.textContent = address.jibun_address + (address.building ? ' (' + address.building + ')' : '');
    option.appendChild(road);
    option.appendChild(zip);
    option.appendChild(jibun);
    return option;
  };

  SearchAddr.prototype.setActive = function (index, scroll) {
    var options = this.list.children;
    if (this.activeIndex >= 0 && options[this.activeIndex]) {
      options[this.activeIndex].setAttribute('aria-selected', 'false');
    }
    this.activeIndex = index;
    var option = options[index];
    if (!option) {
      this.input.removeAttribute('aria-activedescendant');
      return;
    }
    option.setAttribute('aria-selected', 'true');
    this.input.setAttribute('aria-activedescendant', option.id);
    if (scroll) option.scrollIntoView({block: 'nearest'});
  };

  SearchAddr.prototype.open = function () {
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  };

  SearchAddr.prototype.close = function () {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
    this.setActive(-1, false);
  };

  SearchAddr.prototype.setBusy = function (busy) {
    this.panel.classList.toggle('searchaddr-busy', busy);
    this.list.setAttribute('aria-busy', busy ? 'true' : 'false');
  };

  SearchAddr.prototype.say = function (text, errorKind) {
    this.status.textContent = text;
    this.status.classList.toggle('searchaddr-error', Boolean(errorKind));
    if (errorKind) this.status.setAttribute('data-error', errorKind);
    else this.status.removeAttribute('data-error');
  };

  SearchAddr.prototype.findField = function (selector) {
    if (!selector) return null;
    var form = this.input.form;
    return (form && form.querySelector(selector)) || document.querySelector(selector);
  };

  SearchAddr.prototype.eachField = function (callback) {
    for (var name in FILLABLE_FIELDS) {
      var field = this.findField(this.fieldSelectors[name]);
      // The search box keeps the chosen road address; it is never a target field.
      if (field && field !== this.input) callback(field, FILLABLE_FIELDS[name]);
    }
  };

  SearchAddr.prototype.fillFields = function (result) {
    this.eachField(function (field, key) {
      setFieldValue(field, result[key] === undefined || result[key] === null ? '' : String(result[key]));
    });
    this.filled = true;
  };

  SearchAddr.prototype.clearFields = function () {
    this.eachField(function (field) { setFieldValue(field, ''); });
    this.filled = false;
  };

  SearchAddr.prototype.measure = function (name, start, end, detail) {
    try {
      performance.measure(name, {start: start, end: end, detail: detail});
    } catch (ignored) { /* older browsers: the events still carry the timings */ }
  };

  SearchAddr.prototype.emit = function (name, detail) {
    this.input.dispatchEvent(new CustomEvent(name, {bubbles: true, detail: detail}));
  };

  function setFieldValue(field, value) {
    if ('value' in field && field.tagName !== 'OUTPUT') {
      field.value = value;
      // Frameworks and validation listen for these.
      field.dispatchEvent(new Event('input', {bubbles: true}));
      field.dispatchEvent(new Event('change', {bubbles: true}));
    } else {
      field.textContent = value;
    }
  }

  function optionsFromScript(script) {
    var data = script.dataset;
    var fields = {};
    for (var name in FILLABLE_FIELDS) {
      if (data[name]) fields[name] = data[name];
    }
    var pageLang = (document.documentElement.lang || '').slice(0, 2).toLowerCase();
    return {
      api: data.api || '',
      input: data.input || '[data-searchaddr]',
      fields: fields,
      perPage: data.perPage ? parseInt(data.perPage, 10) : undefined,
      debounceMs: data.debounce ? parseInt(data.debounce, 10) : undefined,
      timeoutMs: data.timeout ? parseInt(data.timeout, 10) : undefined,
      lang: (data.lang || pageLang) === 'ko' ? 'ko' : 'en'
    };
  }

  function attach(input, options) {
    if (!input) throw new Error('searchaddr: no input to attach to');
    if (!options || !options.api) throw new Error('searchaddr: the API address (data-api) is missing');
    if (input.searchAddr) return input.searchAddr;
    input.searchAddr = new SearchAddr(input, options);
    return input.searchAddr;
  }

  window.SearchAddr = {attach: attach, version: '1'};

  var script = document.currentScript;  // only set while this file first runs
  if (!script || !script.hasAttribute('data-api')) return;
  var scriptOptions = optionsFromScript(script);

  function attachFromScript() {
    var inputs = document.querySelectorAll(scriptOptions.input);
    if (!inputs.length) {
      console.error('searchaddr: no input matches ' + scriptOptions.input);
      return;
    }
    for (var i = 0; i < inputs.length; i++) attach(inputs[i], scriptOptions);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', attachFromScript);
  else attachFromScript();
})();
