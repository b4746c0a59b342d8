// The demo address site: Korea Post's road addresses, searched and rendered with JavaScript only.
// The index (data/, built by build_index.py) arrives as <script> files, so the page also works
// from file://; what a query finds is docs/search.md.
(function () {
  "use strict";

  var root = document.documentElement;
  var ADDRESS_FIELDS = ["road_address", "jibun_address", "english_address", "zip", "building",
                        "sido", "sigungu", "eupmyeondong"];
  var DETAIL_FIELDS = ADDRESS_FIELDS.concat(["lat", "lng", "admin_code"]);
  var MAX_PER_PAGE = 100;
  var MAX_LATENCY_MS = 60000;
  var DEFAULT_LATENCY_MS = 0;
  var DATA_DIR = "data/";
  var INDEX_FORMAT = 1;
  // Decoded shards kept in the page; beyond this the least recently used are dropped.
  var SHARD_CACHE_BYTES = 12 * 1024 * 1024;
  var EXACT = 2, PREFIX_ONLY = 1, NONE = 0, BY_ROW = 3;
  var HANGUL = /[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7A3]/;
  var LATIN = /[A-Za-z]/;
  var NUMBER = /^([0-9]+)(?:-([0-9]+))?$/;
  var FIVE_DIGITS = /^[0-9]{5}$/;
  var SEPARATORS = /[\s,()]+/;

  var latencyMs = readLatency(new URLSearchParams(window.location.search).get("latency"));
  var sequence = 0;
  var IX = null;

  function readLatency(value) {
    if (value === null || !/^\d{1,6}$/.test(value)) return DEFAULT_LATENCY_MS;
    return Math.min(Number(value), MAX_LATENCY_MS);
  }

  // ---- The index ----------------------------------------------------------------------------

  function bytesOf(base64) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(base64);
    var text = atob(base64);
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }

  function u32(base64) {
    return new Uint32Array(bytesOf(base64).buffer);
  }

  function u16(base64) {
    return new Uint16Array(bytesOf(base64).buffer);
  }

  // Strings joined by "\n", read one at a time without keeping an array of them all.
  function StringTable(text) {
    var offsets = [0];
    for (var at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) offsets.push(at + 1);
    offsets.push(text.length + 1);
    this.text = text;
    this.offsets = Uint32Array.from(offsets);
    this.length = offsets.length - 1;
  }
  StringTable.prototype.get = function (i) {
    return this.text.slice(this.offsets[i], this.offsets[i + 1] - 1);
  };

  // First index in [0, count) whose key is >= target; keys are in ascending order.
  function lowerBound(count, keyOf, target) {
    var lo = 0, hi = count;
    while (lo < hi) {
      var mid = (lo + hi) >>> 1;
      if (keyOf(mid) < target) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  function englishKey(name) {
    return name.toLowerCase().replace(/[\s-]/g, "");
  }

  window.searchaddrIndex = function (raw) {
    var started = performance.now();
    if (!raw || raw.format !== INDEX_FORMAT) throw new Error("주소 색인의 형식이 다릅니다.");
    var ix = {
      records: raw.records, shardRows: raw.shardRows, shards: raw.shards,
      sido: raw.sido, sigungu: raw.sigungu, zips: raw.zips,
      roads: new StringTable(raw.roads), roadsEnglish: new StringTable(raw.roadsEnglish),
      dongs: new StringTable(raw.dongs), dongEnglish: new StringTable(raw.dongEnglish),
      zipStart: u32(raw.zipStart),
      englishOrder: u32(raw.englishOrder),
      roadEntries: u32(raw.roadEntries),
      entrySigungu: u16(raw.entrySigungu),
      entryStart: u32(raw.entryStart),
      entryZipShards: u16(raw.entryZipShards),
      entryDongStart: u32(raw.entryDongStart),
      entryDongs: u16(raw.entryDongs),
      areaWords: new Map(Object.entries(raw.areaWords)),
      bigMains: raw.bigMains,
      landmarks: new Map()
    };
    var entryCount = ix.entrySigungu.length;
    ix.entryCount = entryCount;
    ix.entryRoad = new Uint32Array(entryCount);
    for (var r = 0; r < ix.roads.length; r++) {
      for (var e = ix.roadEntries[r]; e < ix.roadEntries[r + 1]; e++) ix.entryRoad[e] = r;
    }
    ix.sigunguEntries = {start: u32(raw.sigunguEntryStart), items: u32(raw.sigunguEntries)};
    ix.dongEntries = {start: u32(raw.dongEntryStart), items: u32(raw.dongEntries)};
    ix.dongParts = new StringTable(raw.dongParts);
    ix.dongPartStart = u32(raw.dongPartStart);
    ix.dongPartDongs = u16(raw.dongPartDongs);
    raw.landmarks.forEach(function (item) {
      ix.landmarks.set(item[0], {building: item[1], jibun_address: item[2], lat: item[3], lng: item[4],
                                 admin_code: item[5]});
    });
    ix.flagPool = [];
    ix.flagsInUse = 0;
    ix.memoStamp = new Uint32Array(entryCount);
    ix.memoBase = new Int8Array(entryCount);
    ix.memoByRow = new Int32Array(entryCount);
    ix.englishKeys = new Map();
    ix.decodeMs = performance.now() - started;
    IX = ix;
  };

  // ---- Shards: rows loaded on demand, a bounded LRU of decoded ones --------------------------

  var shardCache = new Map();
  var shardLoads = new Map();
  var cachedBytes = 0;
  var shardsRequested = 0;  // published per query as data-shards-loaded, for benchmarks

  function shardSize(number) {
    return Math.min(IX.shardRows, IX.records - number * IX.shardRows);
  }

  // ---- Raw DEFLATE (RFC 1951), decoded into reused buffers: a shard load leaves no garbage
  // but its script text (DecompressionStream allocates its output and state every time).

  function HuffmanTree() {
    this.counts = new Uint16Array(16);
    this.symbols = new Uint16Array(288);
  }

  var inflateState = (function () {
    var lengthBits = new Uint8Array(30), lengthBase = new Uint16Array(30);
    var distBits = new Uint8Array(30), distBase = new Uint16Array(30);
    function bitsAndBases(bits, base, delta, first) {
      for (var i = 0; i < 30; i++) bits[i] = i < delta ? 0 : ((i - delta) / delta) | 0;
      for (var j = 0, sum = first; j < 30; j++) { base[j] = sum; sum += 1 << bits[j]; }
    }
    bitsAndBases(lengthBits, lengthBase, 4, 3);
    lengthBits[28] = 0;
    lengthBase[28] = 258;
    bitsAndBases(distBits, distBase, 2, 1);
    var fixedLengths = new Uint8Array(288 + 30);
    fixedLengths.fill(8, 0, 144);
    fixedLengths.fill(9, 144, 256);
    fixedLengths.fill(7, 256, 280);
    fixedLengths.fill(8, 280, 288);
    fixedLengths.fill(5, 288, 318);
    var state = {lengthBits: lengthBits, lengthBase: lengthBase, distBits: distBits, distBase: distBase,
                 fixedLiterals: new HuffmanTree(), fixedDistances: new HuffmanTree(),
                 literals: new HuffmanTree(), distances: new HuffmanTree(), codeTree: new HuffmanTree(),
                 lengths: new Uint8Array(288 + 32), offsets: new Uint16Array(16),
                 input: new Uint8Array(1 << 20), source: null, at: 0, tag: 0, bitCount: 0};
    buildTree(state, state.fixedLiterals, fixedLengths, 0, 288);
    buildTree(state, state.fixedDistances, fixedLengths, 288, 30);
    return state;
  })();

  function buildTree(state, tree, lengths, offset, count) {
    tree.counts.fill(0);
    for (var i = 0; i < count; i++) tree.counts[lengths[offset + i]]++;
    tree.counts[0] = 0;
    for (var sum = 0, bits = 0; bits < 16; bits++) { state.offsets[bits] = sum; sum += tree.counts[bits]; }
    for (var symbol = 0; symbol < count; symbol++) {
      if (lengths[offset + symbol]) tree.symbols[state.offsets[lengths[offset + symbol]]++] = symbol;
    }
  }

  function readBit(state) {
    if (state.bitCount === 0) {
      if (state.at >= state.source.length) throw new Error("주소 색인 조각이 잘렸습니다.");
      state.tag = state.source[state.at++];
      state.bitCount = 8;
    }
    var bit = state.tag & 1;
    state.tag >>>= 1;
    state.bitCount--;
    return bit;
  }

  function readBits(state, count, base) {
    var value = 0;
    for (var i = 0; i < count; i++) value |= readBit(state) << i;
    return value + base;
  }

  function readSymbol(state, tree) {
    var sum = 0, code = 0, length = 0;
    do {
      code = 2 * code + readBit(state);
      length++;
      if (length > 15) throw new Error("주소 색인 조각의 압축이 잘못되었습니다.");
      sum += tree.counts[length];
      code -= tree.counts[length];
    } while (code >= 0);
    return tree.symbols[sum + code];
  }

  var CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

  function readDynamicTrees(state) {
    var literalCount = readBits(state, 5, 257), distanceCount = readBits(state, 5, 1);
    var codeCount = readBits(state, 4, 4), lengths = state.lengths;
    lengths.fill(0);
    for (var i = 0; i < codeCount; i++) lengths[CODE_LENGTH_ORDER[i]] = readBits(state, 3, 0);
    buildTree(state, state.codeTree, lengths, 0, 19);
    lengths.fill(0);
    for (var n = 0; n < literalCount + distanceCount;) {
      var symbol = readSymbol(state, state.codeTree), repeat = 0, value = 0;
      if (symbol < 16) { lengths[n++] = symbol; continue; }
      if (symbol === 16) {
        if (n === 0) throw new Error("주소 색인 조각의 압축이 잘못되었습니다.");
        value = lengths[n - 1];
        repeat = readBits(state, 2, 3);
      } else if (symbol === 17) repeat = readBits(state, 3, 3);
      else repeat = readBits(state, 7, 11);
      if (n + repeat > literalCount + distanceCount) throw new Error("주소 색인 조각의 압축이 잘못되었습니다.");
      lengths.fill(value, n, n + repeat);
      n += repeat;
    }
    buildTree(state, state.literals, lengths, 0, literalCount);
    buildTree(state, state.distances, lengths, literalCount, distanceCount);
  }

  // Inflates base64 raw DEFLATE into `out`; returns the number of bytes written.
  function inflateInto(base64, out) {
    var state = inflateState;
    var decoded = state.input.setFromBase64 ? state.input.setFromBase64(base64) : null;
    state.source = decoded && decoded.read === base64.length ? state.input.subarray(0, decoded.written)
                                                              : bytesOf(base64);
    state.at = 0;
    state.bitCount = 0;
    var written = 0, last = 0;
    do {
      last = readBit(state);
      var type = readBits(state, 2, 0);
      if (type === 0) {
        state.bitCount = 0;  // stored block: starts on a byte boundary
        var source = state.source, at = state.at;
        var length = source[at] | (source[at + 1] << 8);
        if (at + 4 + length > source.length || written + length > out.length) {
          throw new Error("주소 색인 조각의 압축이 잘못되었습니다.");
        }
        out.set(source.subarray(at + 4, at + 4 + length), written);
        written += length;
        state.at = at + 4 + length;
        continue;
      }
      if (type === 3) throw new Error("주소 색인 조각의 압축이 잘못되었습니다.");
      var literals = state.fixedLiterals, distances = state.fixedDistances;
      if (type === 2) {
        readDynamicTrees(state);
        literals = state.literals;
        distances = state.distances;
      }
      for (;;) {
        var symbol = readSymbol(state, literals);
        if (symbol === 256) break;
        if (symbol < 256) {
          if (written >= out.length) throw new Error("주소 색인 조각이 너무 큽니다.");
          out[written++] = symbol;
          continue;
        }
        symbol -= 257;
        var count = readBits(state, state.lengthBits[symbol], state.lengthBase[symbol]);
        var distanceSymbol = readSymbol(state, distances);
        var from = written - readBits(state, state.distBits[distanceSymbol], state.distBase[distanceSymbol]);
        if (from < 0 || written + count > out.length) throw new Error("주소 색인 조각의 압축이 잘못되었습니다.");
        for (var k = 0; k < count; k++) out[written++] = out[from + k];
      }
    } while (!last);
    state.source = null;
    return written;
  }

  // Buffers of dropped shards, reused for the next ones (each sized for a full shard).
  var freeBuffers = {road: [], zip: []};
  var SHARD_BYTES_PER_ROW = {road: 8, zip: 16};  // zip: 10 stored + zip index and entry per row

  // Road copy: rows in id order. Zip copy: the same rows by (zip, id), with their ids.
  function decodeShard(copy, number, base64) {
    var rows = shardSize(number), full = IX.shardRows;
    var buffer = freeBuffers[copy].pop() || new ArrayBuffer(full * SHARD_BYTES_PER_ROW[copy]);
    var stored = copy === "zip" ? 10 : 8;
    var written;
    try {
      written = inflateInto(base64, new Uint8Array(buffer, 0, full * stored));
    } catch (error) {
      freeBuffers[copy].push(buffer);
      throw error;
    }
    // Road rows: main, sub, dong, zip (uint16 each). Zip rows: id (uint32), main, sub, dong.
    if (rows <= 0 || written !== rows * stored) {
      freeBuffers[copy].push(buffer);
      throw new Error("주소 색인 조각 " + copy + "/" + number + "의 크기가 맞지 않습니다.");
    }
    var shard = {copy: copy, number: number, rows: rows, first: number * full, buffer: buffer,
                 bytes: buffer.byteLength};
    if (copy === "road") {
      shard.main = new Uint16Array(buffer, 0, rows);
      shard.sub = new Uint16Array(buffer, 2 * rows, rows);
      shard.dong = new Uint16Array(buffer, 4 * rows, rows);
      shard.zip = new Uint16Array(buffer, 6 * rows, rows);
      return shard;
    }
    shard.id = new Uint32Array(buffer, 0, rows);
    shard.main = new Uint16Array(buffer, 4 * rows, rows);
    shard.sub = new Uint16Array(buffer, 6 * rows, rows);
    shard.dong = new Uint16Array(buffer, 8 * rows, rows);
    // The zip and the entry of each row follow from the dictionary's offsets.
    shard.entry = new Uint32Array(buffer, 12 * full, rows);
    shard.zip = new Uint16Array(buffer, 10 * full, rows);
    var zipStart = IX.zipStart;
    var z = lowerBound(IX.zips.length / 5, function (k) { return zipStart[k + 1]; }, shard.first + 1);
    for (var i = 0; i < rows; i++) {
      while (zipStart[z + 1] <= shard.first + i) z++;
      shard.zip[i] = z;
      shard.entry[i] = entryOfId(shard.id[i]);
    }
    return shard;
  }

  // Numbers, not strings, key the shards: a scan asks for its shard once per entry.
  function shardKey(copy, number) {
    return 2 * number + (copy === "zip" ? 1 : 0);
  }

  window.searchaddrShard = function (copy, number, base64) {
    var key = shardKey(copy, number);
    var load = shardLoads.get(key);
    if (!load) return;
    shardLoads.delete(key);
    load.script.remove();
    try {
      var shard = decodeShard(copy, number, base64);
    } catch (error) {
      load.reject(error);
      return;
    }
    remember(key, shard);
    load.resolve(shard);
  };

  function remember(key, shard) {
    shardCache.set(key, shard);
    newestKey = key;
    cachedBytes += shard.bytes;
    for (var oldest of shardCache.keys()) {
      if (cachedBytes <= SHARD_CACHE_BYTES || oldest === key) break;
      var dropped = shardCache.get(oldest);
      cachedBytes -= dropped.bytes;
      shardCache.delete(oldest);
      freeBuffers[dropped.copy].push(dropped.buffer);
    }
  }

  var newestKey = -1;

  function cachedShard(key) {
    var shard = shardCache.get(key);
    if (shard && key !== newestKey) {  // most recently used goes last
      shardCache.delete(key);
      shardCache.set(key, shard);
      newestKey = key;
    }
    return shard;
  }

  // The decoded shard, or a promise of it; loading is one <script> (file:// allows no fetch).
  function shardOf(copy, number) {
    var key = shardKey(copy, number);
    var shard = cachedShard(key);
    if (shard) return shard;
    var load = shardLoads.get(key);
    if (load) return load.promise;
    shardsRequested++;
    load = {};
    load.promise = new Promise(function (resolve, reject) { load.resolve = resolve; load.reject = reject; });
    load.script = document.createElement("script");
    load.script.src = DATA_DIR + copy + "/" + number + ".js";
    load.script.onerror = function () {
      shardLoads.delete(key);
      load.script.remove();
      load.reject(new Error("주소 색인 조각 " + copy + "/" + number + "을 읽지 못했습니다."));
    };
    shardLoads.set(key, load);
    document.head.appendChild(load.script);
    return load.promise;
  }

  function entryOfId(id) {
    var start = IX.entryStart;
    return lowerBound(IX.entryCount, function (e) { return start[e + 1]; }, id + 1);
  }

  // ---- Queries (docs/search.md) ---------------------------------------------------------------

  function codePoints(text) {
    return Array.from(text).length;
  }

  function buildingPart(digits) {
    // Building numbers are written without leading zeros: "0110" is no building number.
    return digits[0] === "0" || digits.length > 6 ? -1 : Number(digits);
  }

  function parseQuery(query) {
    var parsed = {words: [], english: [], numbers: [], fives: []};
    var run = null;
    query.normalize("NFC").split(SEPARATORS).forEach(function (token) {
      if (!token) return;
      if (LATIN.test(token) && !HANGUL.test(token)) {
        if (run === null) parsed.english.push(run = []);
        run.push(token);
        return;
      }
      run = null;
      var number = NUMBER.exec(token);
      if (number && FIVE_DIGITS.test(token)) {
        parsed.fives.push({text: token, main: buildingPart(token), zip: -1});
      } else if (number) {
        parsed.numbers.push({main: buildingPart(number[1]),
                             sub: number[2] === undefined ? null : buildingPart(number[2])});
      } else {
        parsed.words.push(token);
      }
    });
    parsed.english = parsed.english.map(function (tokens) { return englishKey(tokens.join("")); });
    return parsed;
  }

  function roadEntryCount(lo, hi) {
    return IX.roadEntries[hi] - IX.roadEntries[lo];
  }

  // Flags over every 읍면동/리 for the words of the current query, reused: 17 KB each is garbage
  // a query need not leave. (A query superseded while loading only ever renders nothing.)
  function scratchFlags(ix, size) {
    if (ix.flagsInUse >= ix.flagPool.length) ix.flagPool.push(new Uint8Array(size));
    var flags = ix.flagPool[ix.flagsInUse++];
    flags.fill(0);
    return flags;
  }

  function prepareWord(text) {
    var ix = IX;
    var word = {text: text, sigungu: null, sigunguList: [], roadEq: -1, prefixLo: 0, prefixHi: 0,
                dongFlags: null, dongList: [], estimate: 0};
    var listed = ix.areaWords.get(text);
    if (listed) {
      word.sigungu = new Uint8Array(ix.sigungu.length);
      listed.forEach(function (g) { word.sigungu[g] = 1; });
      word.sigunguList = listed;
    }
    var lo = lowerBound(ix.roads.length, function (r) { return ix.roads.get(r); }, text);
    if (lo < ix.roads.length && ix.roads.get(lo) === text) word.roadEq = lo;
    if (codePoints(text) >= 2) {
      word.prefixLo = lo;
      word.prefixHi = lowerBound(ix.roads.length, function (r) { return ix.roads.get(r); }, text + "\uffff");
    }
    var part = lowerBound(ix.dongParts.length, function (i) { return ix.dongParts.get(i); }, text);
    var dongs = part < ix.dongParts.length && ix.dongParts.get(part) === text
      ? Array.from(ix.dongPartDongs.subarray(ix.dongPartStart[part], ix.dongPartStart[part + 1])) : null;
    if (dongs) {
      word.dongFlags = scratchFlags(ix, ix.dongs.length);
      dongs.forEach(function (d) { word.dongFlags[d] = 1; });
      word.dongList = dongs;
    }
    var estimate = roadEntryCount(word.prefixLo, word.prefixHi);
    if (word.roadEq >= 0 && word.prefixHi <= word.roadEq) estimate += roadEntryCount(word.roadEq, word.roadEq + 1);
    word.sigunguList.forEach(function (g) {
      estimate += ix.sigunguEntries.start[g + 1] - ix.sigunguEntries.start[g];
    });
    word.dongList.forEach(function (d) { estimate += ix.dongEntries.start[d + 1] - ix.dongEntries.start[d]; });
    word.estimate = estimate;
    return word;
  }

  function englishKeyOf(road) {
    var key = IX.englishKeys.get(road);
    if (key === undefined) {
      key = englishKey(IX.roadsEnglish.get(road));
      if (IX.englishKeys.size > 50000) IX.englishKeys.clear();
      IX.englishKeys.set(road, key);
    }
    return key;
  }

  function prepareEnglish(key) {
    var ix = IX;
    var order = ix.englishOrder;
    var count = order.length;
    var keyAt = function (i) { return englishKeyOf(order[i]); };
    var name = {text: key, roads: new Map(), estimate: 0};
    var lo = lowerBound(count, keyAt, key);
    var prefix = codePoints(key) >= 2;
    for (var i = lo; i < count; i++) {
      var candidate = keyAt(i);
      if (candidate === key) name.roads.set(order[i], EXACT);
      else if (prefix && candidate.startsWith(key)) name.roads.set(order[i], PREFIX_ONLY);
      else break;
      name.estimate += roadEntryCount(order[i], order[i] + 1);
    }
    return name;
  }

  // The entries (sido, sigungu, road) a word or English road name can match.
  function candidateEntries(term, visit) {
    var ix = IX;
    if (term.roads) {
      term.roads.forEach(function (state, road) {
        for (var e = ix.roadEntries[road]; e < ix.roadEntries[road + 1]; e++) visit(e);
      });
      return;
    }
    var e;
    for (e = ix.roadEntries[term.prefixLo]; e < ix.roadEntries[term.prefixHi]; e++) visit(e);
    if (term.roadEq >= 0) {
      for (e = ix.roadEntries[term.roadEq]; e < ix.roadEntries[term.roadEq + 1]; e++) visit(e);
    }
    var groups = [[ix.sigunguEntries, term.sigunguList], [ix.dongEntries, term.dongList]];
    groups.forEach(function (group) {
      var index = group[0];
      group[1].forEach(function (key) {
        for (var k = index.start[key]; k < index.start[key + 1]; k++) visit(index.items[k]);
      });
    });
  }

  // How a word matches an entry: EXACT, PREFIX_ONLY, NONE, or BY_ROW (its 읍면동/리 decides).
  function wordState(word, entry, road, sigungu) {
    if ((word.sigungu !== null && word.sigungu[sigungu]) || road === word.roadEq) return EXACT;
    var fallback = road >= word.prefixLo && road < word.prefixHi ? PREFIX_ONLY : NONE;
    if (word.dongFlags !== null) {
      var ix = IX, matched = 0, first = ix.entryDongStart[entry], last = ix.entryDongStart[entry + 1];
      for (var j = first; j < last; j++) matched += word.dongFlags[ix.entryDongs[j]];
      if (matched === last - first) return EXACT;
      if (matched > 0) return BY_ROW;
    }
    return fallback;
  }

  function Search(parsed) {
    IX.flagsInUse = 0;
    this.words = parsed.words.map(prepareWord);
    this.english = parsed.english.map(prepareEnglish);
    this.numbers = parsed.numbers;
    this.fives = parsed.fives;
    this.byRow = [];  // per entry whose 읍면동/리 decides a word: [[word, fallback state]...]
    this.stamp = ++Search.count;
  }
  Search.count = 0;

  // What an entry's rows share: NONE if none can match, else the best state they can have (the
  // words in this.byRow[IX.memoByRow[entry]] are then decided per row). Memoized per search,
  // in typed arrays: a query may look at thousands of entries.
  Search.prototype.entryState = function (entry) {
    var ix = IX;
    if (ix.memoStamp[entry] === this.stamp) return ix.memoBase[entry];
    var road = ix.entryRoad[entry], sigungu = ix.entrySigungu[entry];
    var base = EXACT, byRow = null;
    for (var i = 0; i < this.words.length && base !== NONE; i++) {
      var word = this.words[i];
      var state = wordState(word, entry, road, sigungu);
      if (state === BY_ROW) {
        var fallback = road >= word.prefixLo && road < word.prefixHi ? PREFIX_ONLY : NONE;
        (byRow || (byRow = [])).push([word, fallback]);
      } else if (state < base) base = state;
    }
    for (var k = 0; k < this.english.length && base !== NONE; k++) {
      var english = this.english[k].roads.get(road) || NONE;
      if (english < base) base = english;
    }
    ix.memoStamp[entry] = this.stamp;
    ix.memoBase[entry] = base;
    ix.memoByRow[entry] = byRow === null || base === NONE ? -1 : this.byRow.push(byRow) - 1;
    return base;
  };

  // EXACT, PREFIX_ONLY or NONE for one row of an entry whose entryState is not NONE.
  Search.prototype.rowState = function (entry, main, sub, dong, zip) {
    var state = IX.memoBase[entry], slot = IX.memoByRow[entry];
    if (slot >= 0) {
      var byRow = this.byRow[slot];
      for (var i = 0; i < byRow.length; i++) {
        var wordRow = byRow[i][0].dongFlags[dong] ? EXACT : byRow[i][1];
        if (wordRow === NONE) return NONE;
        if (wordRow < state) state = wordRow;
      }
    }
    for (var n = 0; n < this.numbers.length; n++) {
      var number = this.numbers[n];
      if (main !== number.main) return NONE;
      if (number.sub === null) {
        if (sub !== 0) state = PREFIX_ONLY;
      } else if (sub !== number.sub) return NONE;
    }
    for (var f = 0; f < this.fives.length; f++) {
      var five = this.fives[f];
      if (zip === five.zip) continue;
      if (main !== five.main) return NONE;
      if (sub !== 0) state = PREFIX_ONLY;
    }
    return state;
  };

  // Matches, exact ones first, each group in id order: {total, page(start, end) -> promise of rows}.
  Search.prototype.run = async function () {
    var ix = IX;
    var zipCount = ix.zips.length / 5;
    this.fives.forEach(function (five) {
      var z = lowerBound(zipCount, function (k) { return ix.zips.substr(k * 5, 5); }, five.text);
      five.zip = z < zipCount && ix.zips.substr(z * 5, 5) === five.text ? z : -1;
    });
    if (!this.words.length && !this.english.length && !this.fives.length) return new RowMatches(this, false);
    if (this.fives.length) return this.scanZip(this.fives[0]);
    var terms = this.words.concat(this.english);
    var smallest = terms.reduce(function (a, b) { return b.estimate < a.estimate ? b : a; });
    var entries = [], self = this, byRows = this.numbers.length > 0;
    candidateEntries(smallest, function (e) {
      if (ix.memoStamp[e] === self.stamp) return;  // already seen
      if (self.entryState(e) === NONE) return;
      entries.push(e);
      if (ix.memoByRow[e] >= 0) byRows = true;
    });
    entries.sort(function (a, b) { return a - b; });
    if (!byRows) return new EntryMatches(entries);
    return this.scanEntries(entries);
  };

  // Rows of the zip copy for one zip, plus the few addresses whose building number has 5 digits.
  Search.prototype.scanZip = async function (five) {
    var ix = IX, found = new RowMatches(this, true);
    if (five.zip >= 0) {
      var first = ix.zipStart[five.zip], last = ix.zipStart[five.zip + 1];
      for (var s = Math.floor(first / ix.shardRows); s * ix.shardRows < last; s++) {
        var shard = shardOf("zip", s);
        if (shard.then) shard = await shard;
        var from = Math.max(first - shard.first, 0), to = Math.min(last - shard.first, shard.rows);
        for (var i = from; i < to; i++) {
          if (this.entryState(shard.entry[i]) === NONE) continue;
          found.add(shard.entry[i], shard.id[i], shard.main[i], shard.sub[i], shard.dong[i], shard.zip[i]);
        }
      }
    }
    var self = this;
    ix.bigMains.forEach(function (row) {  // [id, main, sub, dong, zip]; rows of this zip are in already
      if (row[1] === five.main && row[4] !== five.zip) {
        var entry = entryOfId(row[0]);
        if (self.entryState(entry) !== NONE) found.add(entry, row[0], row[1], row[2], row[3], row[4]);
      }
    });
    return found.finish();
  };

  // Rows of the candidate entries, from whichever copy needs fewer shards (loaded ones count less).
  Search.prototype.scanEntries = async function (entries) {
    var ix = IX, shardRows = ix.shardRows;
    var roadShards = new Set(), zipShards = new Set();
    entries.forEach(function (entry) {
      var first = ix.entryStart[entry], last = ix.entryStart[entry + 1];
      for (var s = Math.floor(first / shardRows); s * shardRows < last; s++) roadShards.add(s);
      for (var z = ix.entryZipShards[2 * entry]; z <= ix.entryZipShards[2 * entry + 1]; z++) zipShards.add(z);
    });
    var cost = function (copy, shards) {
      var total = 0;
      shards.forEach(function (s) { total += shardCache.has(shardKey(copy, s)) ? 1 : 8; });
      return total;
    };
    if (cost("zip", zipShards) < cost("road", roadShards)) {
      var byZip = new RowMatches(this, true);
      var sorted = Array.from(zipShards).sort(function (a, b) { return a - b; });
      for (var n = 0; n < sorted.length; n++) {
        var shard = shardOf("zip", sorted[n]);
        if (shard.then) shard = await shard;
        for (var i = 0; i < shard.rows; i++) {
          var e = shard.entry[i];
          if (ix.memoStamp[e] !== this.stamp || ix.memoBase[e] === NONE) continue;
          byZip.add(e, shard.id[i], shard.main[i], shard.sub[i], shard.dong[i], shard.zip[i]);
        }
      }
      return byZip.finish();
    }
    var found = new RowMatches(this, false);
    for (var k = 0; k < entries.length; k++) {
      var entry = entries[k];
      var row = ix.entryStart[entry], last = ix.entryStart[entry + 1];
      while (row < last) {
        var part = shardOf("road", Math.floor(row / shardRows));
        if (part.then) part = await part;
        var end = Math.min(last, part.first + part.rows);
        for (; row < end; row++) {
          var at = row - part.first;
          found.add(entry, row, part.main[at], part.sub[at], part.dong[at], part.zip[at]);
        }
      }
    }
    return found.finish();
  };

  // Matching rows with their fields in flat arrays (group 0 exact, group 1 the rest), for paging
  // and rendering; `unordered` when they were collected in zip order rather than id order.
  function RowMatches(search, unordered) {
    this.search = search;
    this.unordered = unordered;
    this.columns = [0, 1].map(function () { return {id: [], mainSub: [], dong: [], zip: [], order: null}; });
    this.total = 0;
  }
  RowMatches.prototype.add = function (entry, id, main, sub, dong, zip) {
    var state = this.search.rowState(entry, main, sub, dong, zip);
    if (state === NONE) return;
    var group = this.columns[state === EXACT ? 0 : 1];
    group.id.push(id);
    group.mainSub.push(main * 4096 + sub);
    group.dong.push(dong);
    group.zip.push(zip);
  };
  RowMatches.prototype.finish = function () {
    var unordered = this.unordered;
    this.columns.forEach(function (group) {
      if (!unordered) return;
      var ids = group.id;
      group.order = ids.map(function (_, i) { return i; }).sort(function (a, b) { return ids[a] - ids[b]; });
    });
    this.total = this.columns[0].id.length + this.columns[1].id.length;
    return this;
  };
  RowMatches.prototype.page = async function (start, end) {
    var out = [], exact = this.columns[0].id.length;
    for (var p = start; p < end && p < this.total; p++) {
      var group = this.columns[p < exact ? 0 : 1], i = p < exact ? p : p - exact;
      if (group.order !== null) i = group.order[i];
      var mainSub = group.mainSub[i];
      out.push(addressOf(group.id[i], Math.floor(mainSub / 4096), mainSub % 4096, group.dong[i], group.zip[i]));
    }
    return out;
  };

  // Matches decided per entry: every row of each entry, counted without loading rows.
  function EntryMatches(entries) {
    var base = IX.memoBase;
    this.entries = entries.filter(function (e) { return base[e] === EXACT; })
      .concat(entries.filter(function (e) { return base[e] !== EXACT; }));
    this.total = 0;
    for (var i = 0; i < this.entries.length; i++) {
      this.total += IX.entryStart[this.entries[i] + 1] - IX.entryStart[this.entries[i]];
    }
  }
  EntryMatches.prototype.page = async function (start, end) {
    var ids = [], skipped = 0;
    for (var i = 0; i < this.entries.length && ids.length < end - start; i++) {
      var first = IX.entryStart[this.entries[i]], count = IX.entryStart[this.entries[i] + 1] - first;
      if (skipped + count <= start) { skipped += count; continue; }
      for (var k = Math.max(start - skipped, 0); k < count && ids.length < end - start; k++) ids.push(first + k);
      skipped += count;
    }
    var out = [];
    for (var j = 0; j < ids.length; j++) out.push(await addressById(ids[j]));
    return out;
  };

  async function addressById(id) {
    var shard = await shardOf("road", Math.floor(id / IX.shardRows));
    var at = id - shard.first;
    return addressOf(id, shard.main[at], shard.sub[at], shard.dong[at], shard.zip[at]);
  }

  function addressOf(id, main, sub, dong, zip) {
    var ix = IX;
    var entry = entryOfId(id);
    var sigungu = ix.sigungu[ix.entrySigungu[entry]];
    var sido = ix.sido[sigungu[0]];
    var road = ix.entryRoad[entry];
    var dongName = ix.dongs.get(dong);
    var eupmyeon = dongName.indexOf(" ") >= 0 ? dongName.split(" ")[0] : "";
    var number = sub ? main + "-" + sub : String(main);
    var known = ix.landmarks.get(id);
    return {
      id: "k" + id.toString(36),
      road_address: joinWords([sido[0], sigungu[1], eupmyeon, ix.roads.get(road), number], " "),
      jibun_address: known ? known.jibun_address : "",
      english_address: joinWords([number + " " + ix.roadsEnglish.get(road), ix.dongEnglish.get(dong),
                                  sigungu[2], sido[1]], ", "),
      zip: ix.zips.substr(zip * 5, 5),
      building: known ? known.building : "",
      sido: sido[0],
      sigungu: sigungu[1],
      eupmyeondong: dongName,
      lat: known ? known.lat : null,
      lng: known ? known.lng : null,
      admin_code: known ? known.admin_code : null
    };
  }

  function joinWords(parts, separator) {
    return parts.filter(function (p) { return p; }).join(separator);
  }

  function idNumber(id) {
    var match = /^k([0-9a-z]{1,5})$/.exec(id);
    if (!match) return -1;
    var number = parseInt(match[1], 36);
    return "k" + number.toString(36) === id && number < IX.records ? number : -1;
  }

  // ---- Rendering (textContent only) -----------------------------------------------------------

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

  // Starts one query: a new sequence number and the echo of what was asked, then the work after
  // latencyMs. The work returns {status, nodes, total?}; a newer query in the same box discards it.
  function startRequest(box, echo, work) {
    if (box.pendingTimer) clearTimeout(box.pendingTimer);
    var seq = ++sequence;
    root.dataset.pendingSeq = String(seq);
    box.dataset.seq = String(seq);
    box.dataset.status = "loading";
    Object.keys(echo).forEach(function (key) { box.dataset[key] = echo[key]; });
    ["total", "elapsedMs", "totalMs", "shardsLoaded", "message"].forEach(function (key) { delete box.dataset[key]; });
    box.setAttribute("aria-busy", "true");
    box.replaceChildren(element("p", {"class": "hint loading", text: "불러오는 중…"}));
    var startMark = "searchaddr-start-" + seq;
    performance.mark(startMark);
    box.pendingTimer = setTimeout(function () {
      box.pendingTimer = null;
      finishRequest(box, seq, work, startMark);
    }, latencyMs);
  }

  async function finishRequest(box, seq, work, startMark) {
    var workMark = "searchaddr-work-" + seq;
    var endMark = "searchaddr-end-" + seq;
    performance.mark(workMark);
    var shardsBefore = shardsRequested;
    var view;
    try {
      view = await work();
    } catch (error) {
      var message = String(error && error.message || error);
      view = {status: "error", message: message, nodes: [element("p", {"class": "error", text: message})]};
    }
    if (box.dataset.seq !== String(seq)) {  // a newer query owns the box now
      [startMark, workMark].forEach(function (m) { performance.clearMarks(m); });
      return;
    }
    box.replaceChildren.apply(box, view.nodes);
    if (view.total !== undefined) box.dataset.total = String(view.total);
    if (view.message !== undefined) box.dataset.message = view.message;
    performance.mark(endMark);
    var elapsed = performance.measure("searchaddr-work-" + seq, workMark, endMark).duration;
    var total = performance.measure("searchaddr-total-" + seq, startMark, endMark).duration;
    [startMark, workMark, endMark].forEach(function (m) { performance.clearMarks(m); });
    performance.clearMeasures("searchaddr-work-" + seq);
    performance.clearMeasures("searchaddr-total-" + seq);
    box.dataset.elapsedMs = elapsed.toFixed(3);
    box.dataset.totalMs = total.toFixed(3);
    box.dataset.shardsLoaded = String(shardsRequested - shardsBefore);
    box.removeAttribute("aria-busy");
    box.dataset.status = view.status;  // set last: readers wait for this attribute
    box.dispatchEvent(new CustomEvent("searchaddr:rendered",
                                      {bubbles: true, detail: {seq: seq, status: view.status}}));
  }

  async function searchView(query, page, perPage) {
    if (page === null) throw new Error("페이지는 1 이상의 정수여야 합니다.");
    if (perPage === null) throw new Error("페이지당 개수는 1부터 " + MAX_PER_PAGE + "까지입니다.");
    if (!query.trim()) throw new Error("검색어를 입력하세요.");
    var matches = await new Search(parseQuery(query)).run();
    var addresses = await matches.page((page - 1) * perPage, page * perPage);
    var pages = Math.max(1, Math.ceil(matches.total / perPage));
    var summary = element("p", {"class": "summary"}, [
      element("span", {text: "“" + query.trim() + "” 검색 결과 "}),
      element("strong", {"class": "total", text: matches.total.toLocaleString("ko-KR")}),
      element("span", {text: "건 · " + page + " / " + pages + " 페이지"})
    ]);
    var nodes = [summary];
    if (!addresses.length) {
      nodes.push(element("p", {"class": "empty",
        text: matches.total ? "이 페이지에는 결과가 없습니다." : "검색 결과가 없습니다."}));
    } else {
      var body = element("tbody", {}, addresses.map(function (a) {
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
      nodes.push(element("table", {"class": "results-table"}, [head, body]));
    }
    nodes.push(pager(page, pages));
    return {status: "ok", total: matches.total, nodes: nodes};
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

  async function detailView(id) {
    var number = idNumber(id);
    if (number < 0) {
      return {status: "not-found",
              nodes: [element("p", {"class": "empty", text: "주소를 찾을 수 없습니다 (not found)."})]};
    }
    var address = await addressById(number);
    var labels = {road_address: "도로명주소", jibun_address: "지번주소", english_address: "영문주소",
                  zip: "우편번호", building: "건물명", sido: "시도", sigungu: "시군구",
                  eupmyeondong: "읍면동", lat: "위도", lng: "경도", admin_code: "행정구역코드"};
    var list = element("dl", {"class": "detail-list", "data-id": address.id});
    DETAIL_FIELDS.forEach(function (name) {
      list.appendChild(element("dt", {text: labels[name]}));
      // A value the data does not have is shown as a dash, with no data-field: readers get null.
      var value = address[name] === null ? element("span", {"class": "unknown", text: "—"})
                                         : fieldNode("span", name, String(address[name]));
      list.appendChild(element("dd", {}, [value]));
    });
    return {status: "ok", nodes: [element("h2", {text: address.building || address.road_address}), list]};
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
      return searchView(query, parseWhole(pageText, 1, 1000000), parseWhole(perPageText, 1, MAX_PER_PAGE));
    });
  });

  detailForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var id = detailForm.elements.id.value;
    startRequest(detailBox, {id: id}, function () { return detailView(id); });
  });

  function showDetailFromHash() {
    var match = /^#id=([A-Za-z0-9_-]{1,64})$/.exec(window.location.hash);
    if (!match) return;
    detailForm.elements.id.value = match[1];
    detailForm.requestSubmit();
    detailBox.scrollIntoView({block: "nearest"});
  }

  // data/index.js runs right after this script; by DOMContentLoaded it has registered the index.
  document.addEventListener("DOMContentLoaded", function () {
    if (IX !== null && IX.records > 0) {
      root.dataset.records = String(IX.records);
      root.dataset.indexMs = IX.decodeMs.toFixed(1);
      root.dataset.searchaddr = "ready";
    } else {
      root.dataset.searchaddr = "error";
      resultsBox.dataset.status = "error";
      resultsBox.replaceChildren(element("p", {"class": "error",
        text: "주소 색인(data/index.js)을 읽지 못했습니다. 설정(scripts/setup.sh)이 색인을 만듭니다."}));
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
  }, {once: true});
})();
