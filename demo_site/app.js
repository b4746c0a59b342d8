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
  var INDEX_FORMAT = 3;
  // Decoded shards kept in the page; beyond this the least recently used are dropped.
  var SHARD_CACHE_BYTES = 6 * 1024 * 1024;
  // Shards a scan asks for before it needs them: their files load while earlier ones are read.
  var LOAD_AHEAD = 64;
  // What loading a shard costs, in rows scanned per KB of its file: a plan that reads loaded rows
  // wins over one that loads fewer unless it reads far more of them.
  var LOAD_COST_ROWS_PER_KB = 4096;
  var EXACT = 2, PREFIX_ONLY = 1, NONE = 0, BY_ROW = 3;
  var ID_LIMIT = 8388608;  // 2**23: every id is below it (build_index.py's ID_BITS)
  var NO_RI = 0xFFFFFFFF;  // dongRiStart of a 읍면동/리 of one part (build_index.py's NO_RI)
  var HANGUL = /[\u1100-\u11FF\u3130-\u318F\uAC00-\uD7A3]/;
  var LATIN = /[A-Za-z]/;
  var NUMBER = /^([0-9]+)(?:-([0-9]+))?$/;
  var FIVE_DIGITS = /^[0-9]{5}$/;
  var MOUNTAIN_NUMBER = /^산([0-9]+)(?:-([0-9]+))?$/;
  // A building number glued to a road name (세종대로110). Digits inside a road name are followed by
  // 로 or 길 (세종대로23길, 4.19로), so a word that ends in them keeps them.
  var GLUED_NUMBER = /^(.+[로길])([0-9]+(?:-[0-9]+)?)$/;
  var MOUNTAIN_BIT = 32768;  // a lot's 산 in the index's lot columns (build_index.py)
  var SEPARATORS = /[\s,()]+/;
  var UTF8_DECODER = new TextDecoder();
  var UTF8_ENCODER = new TextEncoder();
  var TOTAL_FORMAT = new Intl.NumberFormat("ko-KR");

  var latencyMs = readLatency(new URLSearchParams(window.location.search).get("latency"));
  var sequence = 0;
  // The index a search reads now: BASE (data/index.js), or CHANGES (data/changes.js: the addresses
  // changed since BASE was built, searched after it and merged; null when there are none).
  var IX = null;
  var BASE = null;
  var CHANGES = null;
  var changesDate = null;  // the day the changes bring the data to

  function readLatency(value) {
    if (value === null || !/^\d{1,6}$/.test(value)) return DEFAULT_LATENCY_MS;
    return Math.min(Number(value), MAX_LATENCY_MS);
  }

  // ---- Raw DEFLATE (RFC 1951) -----------------------------------------------------------------
  // Decoded with lookup tables into a caller's buffer: a shard load leaves no garbage but its
  // script text (DecompressionStream allocates its output and state every time, and is async).

  var inflateInto = (function () {
    var LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83,
                       99, 115, 131, 163, 195, 227, 258];
    var LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
    var DISTANCE_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
                         1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
    var DISTANCE_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
                          12, 12, 13, 13];
    var CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
    var BAD = "주소 색인 조각의 압축이 잘못되었습니다.";
    var reversedByte = new Uint8Array(256);
    for (var b = 0; b < 256; b++) {
      var r = 0;
      for (var k = 0; k < 8; k++) r |= ((b >> k) & 1) << (7 - k);
      reversedByte[b] = r;
    }

    // A Huffman code as a table indexed by the next `bits` input bits (first bit lowest):
    // each entry is symbol << 4 | code length (0: no such code).
    function Table() {
      this.bits = 0;
      this.entries = new Uint16Array(1 << 15);
    }
    var counts = new Uint16Array(16), nextCode = new Uint16Array(16);

    function buildTable(table, lengths, offset, count) {
      var maxBits = 0, i;
      counts.fill(0);
      for (i = 0; i < count; i++) {
        var length = lengths[offset + i];
        counts[length]++;
        if (length > maxBits) maxBits = length;
      }
      counts[0] = 0;
      for (var code = 0, bits = 1; bits <= 15; bits++) {
        code = (code + counts[bits - 1]) << 1;
        nextCode[bits] = code;
      }
      var size = 1 << maxBits, entries = table.entries;
      table.bits = maxBits;
      entries.fill(0, 0, size);
      for (i = 0; i < count; i++) {
        var bitsOf = lengths[offset + i];
        if (!bitsOf) continue;
        var c = nextCode[bitsOf]++;
        var reversed = ((reversedByte[c & 255] << 8) | reversedByte[c >> 8]) >>> (16 - bitsOf);
        for (var at = reversed; at < size; at += 1 << bitsOf) entries[at] = (i << 4) | bitsOf;
      }
    }

    var literals = new Table(), distances = new Table(), codeLengths = new Table();
    var fixedLiterals = new Table(), fixedDistances = new Table();
    var lengths = new Uint8Array(288 + 32);
    lengths.fill(8, 0, 144);
    lengths.fill(9, 144, 256);
    lengths.fill(7, 256, 280);
    lengths.fill(8, 280, 288);
    buildTable(fixedLiterals, lengths, 0, 288);
    lengths.fill(5, 0, 30);
    buildTable(fixedDistances, lengths, 0, 30);
    // Base64 is decoded here (when it fits) rather than into a new array per shard.
    var scratch = new Uint8Array(1 << 18);

    // The next 25 bits at bit `at`; the input ends with 4 zero bytes so this never reads past it.
    function peek(source, at) {
      var i = at >> 3;
      return ((source[i] | (source[i + 1] << 8) | (source[i + 2] << 16) | (source[i + 3] << 24)) >>> (at & 7));
    }

    function readDynamicTables(source, at) {
      var head = peek(source, at);
      var literalCount = (head & 31) + 257, distanceCount = ((head >> 5) & 31) + 1;
      var codeCount = ((head >> 10) & 15) + 4;
      at += 14;
      lengths.fill(0);
      for (var i = 0; i < codeCount; i++, at += 3) lengths[CODE_LENGTH_ORDER[i]] = peek(source, at) & 7;
      buildTable(codeLengths, lengths, 0, 19);
      var total = literalCount + distanceCount, mask = (1 << codeLengths.bits) - 1;
      lengths.fill(0);
      for (var n = 0; n < total;) {
        var entry = codeLengths.entries[peek(source, at) & mask];
        if (!(entry & 15)) throw new Error(BAD);
        at += entry & 15;
        var symbol = entry >> 4, repeat = 0, value = 0;
        if (symbol < 16) { lengths[n++] = symbol; continue; }
        if (symbol === 16) {
          if (n === 0) throw new Error(BAD);
          value = lengths[n - 1];
          repeat = 3 + (peek(source, at) & 3);
          at += 2;
        } else if (symbol === 17) {
          repeat = 3 + (peek(source, at) & 7);
          at += 3;
        } else {
          repeat = 11 + (peek(source, at) & 127);
          at += 7;
        }
        if (n + repeat > total) throw new Error(BAD);
        lengths.fill(value, n, n + repeat);
        n += repeat;
      }
      buildTable(literals, lengths, 0, literalCount);
      buildTable(distances, lengths, literalCount, distanceCount);
      return at;
    }

    function decodeBase64(base64) {
      var decoded = scratch.setFromBase64 && base64.length <= (scratch.length - 4) / 3 * 4
        ? scratch.setFromBase64(base64) : null;
      if (decoded && decoded.read === base64.length) {
        scratch.fill(0, decoded.written, decoded.written + 4);
        return {source: scratch, length: decoded.written};
      }
      var bytes = bytesOf(base64), padded = new Uint8Array(bytes.length + 4);
      padded.set(bytes);
      return {source: padded, length: bytes.length};
    }

    // Inflates base64 raw DEFLATE into `out`; returns the number of bytes written.
    return function (base64, out) {
      var input = decodeBase64(base64), source = input.source, end = input.length * 8;
      var at = 0, written = 0, last = 0;
      do {
        var head = peek(source, at);
        last = head & 1;
        var type = (head >> 1) & 3;
        at += 3;
        if (type === 0) {
          var byte = (at + 7) >> 3;  // a stored block starts on a byte boundary
          var length = source[byte] | (source[byte + 1] << 8);
          if (byte + 4 + length > input.length || written + length > out.length) throw new Error(BAD);
          out.set(source.subarray(byte + 4, byte + 4 + length), written);
          written += length;
          at = (byte + 4 + length) * 8;
          continue;
        }
        if (type === 3) throw new Error(BAD);
        var literalTable = fixedLiterals, distanceTable = fixedDistances;
        if (type === 2) {
          at = readDynamicTables(source, at);
          literalTable = literals;
          distanceTable = distances;
        }
        var literalEntries = literalTable.entries, literalMask = (1 << literalTable.bits) - 1;
        var distanceEntries = distanceTable.entries, distanceMask = (1 << distanceTable.bits) - 1;
        for (;;) {
          if (at > end) throw new Error("주소 색인 조각이 잘렸습니다.");
          var entry = literalEntries[peek(source, at) & literalMask];
          if (!(entry & 15)) throw new Error(BAD);
          at += entry & 15;
          var symbol = entry >> 4;
          if (symbol < 256) {
            if (written >= out.length) throw new Error(BAD);
            out[written++] = symbol;
            continue;
          }
          if (symbol === 256) break;
          symbol -= 257;
          if (symbol >= 29) throw new Error(BAD);
          var extra = LENGTH_EXTRA[symbol];
          var count = LENGTH_BASE[symbol] + (peek(source, at) & ((1 << extra) - 1));
          at += extra;
          entry = distanceEntries[peek(source, at) & distanceMask];
          if (!(entry & 15) || (entry >> 4) >= 30) throw new Error(BAD);
          at += entry & 15;
          symbol = entry >> 4;
          extra = DISTANCE_EXTRA[symbol];
          var from = written - DISTANCE_BASE[symbol] - (peek(source, at) & ((1 << extra) - 1));
          at += extra;
          if (from < 0 || written + count > out.length) throw new Error(BAD);
          for (var k = 0; k < count; k++) out[written++] = out[from + k];
        }
      } while (!last);
      if (at > end) throw new Error("주소 색인 조각이 잘렸습니다.");
      return written;
    };
  })();

  function bytesOf(base64) {
    if (Uint8Array.fromBase64) return Uint8Array.fromBase64(base64);
    var text = atob(base64);
    var out = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
    return out;
  }

  // ---- The index ----------------------------------------------------------------------------

  // Names as UTF-8 bytes end to end (`text`) and where each starts (`offsets`, one more than
  // names). A string is made only for a name that is shown; searching compares bytes, whose
  // order is the names' code point order.
  function NameTable(text, offsets) {
    this.text = text;
    this.offsets = offsets;
    this.length = offsets.length - 1;
  }
  NameTable.prototype.get = function (i) {
    return UTF8_DECODER.decode(this.text.subarray(this.offsets[i], this.offsets[i + 1]));
  };
  // Name i against `key` (bytes): negative, 0 or positive. With `asPrefix`, a name that starts
  // with the key counts as equal.
  NameTable.prototype.compare = function (i, key, asPrefix) {
    var text = this.text, at = this.offsets[i], size = this.offsets[i + 1] - at;
    var common = Math.min(size, key.length);
    for (var k = 0; k < common; k++) {
      var difference = text[at + k] - key[k];
      if (difference !== 0) return difference;
    }
    if (asPrefix && size >= key.length) return 0;
    return size - key.length;
  };
  // Whether names i and j are the same.
  NameTable.prototype.equal = function (i, j) {
    var text = this.text, at = this.offsets[i], other = this.offsets[j], size = this.offsets[i + 1] - at;
    if (this.offsets[j + 1] - other !== size) return false;
    for (var k = 0; k < size; k++) {
      if (text[at + k] !== text[other + k]) return false;
    }
    return true;
  };
  // The first name >= key; with `asPrefix`, the first after those that start with the key.
  NameTable.prototype.bound = function (key, asPrefix) {
    var lo = 0, hi = this.length;
    while (lo < hi) {
      var mid = (lo + hi) >>> 1;
      if (asPrefix ? this.compare(mid, key, true) <= 0 : this.compare(mid, key, false) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  NameTable.prototype.find = function (key) {
    var i = this.bound(key, false);
    return i < this.length && this.compare(i, key, false) === 0 ? i : -1;
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

  // The last i with starts[i] <= position: the run of a sorted copy that holds a position.
  function runOf(starts, position) {
    var lo = 0, hi = starts.length - 1;
    while (hi - lo > 1) {
      var mid = (lo + hi) >>> 1;
      if (starts[mid] <= position) lo = mid; else hi = mid;
    }
    return lo;
  }

  function englishKey(name) {
    return name.toLowerCase().replace(/[\s-]/g, "");
  }

  window.searchaddrIndex = function (meta, deflated) {
    // Chromium keeps a script's text while its element is in the document: 5 MB that has done its work.
    if (document.currentScript) document.currentScript.remove();
    IX = BASE = decodeIndex(meta, deflated, 0);
  };

  // data/changes.js: null, or the index of the addresses changed since BASE was built, with the
  // rows of BASE they replace or remove (official_changes.py). Changes made for another BASE
  // (a page that loaded the files while they were being replaced) are not applied.
  window.searchaddrChanges = function (meta, deflated) {
    if (document.currentScript) document.currentScript.remove();
    if (!meta || BASE === null || meta.changes.base !== BASE.rows) return;
    var removed = meta.changes.removed;
    BASE.removedList = Uint32Array.from(removed);
    BASE.removed = new Uint32Array((BASE.records >>> 5) + 1);
    removed.forEach(function (id) { BASE.removed[id >>> 5] |= 1 << (id & 31); });
    changesDate = meta.baseDate;
    if (meta.records > 0) {
      CHANGES = decodeIndex(meta, deflated, 1);
      CHANGES.basePositions = Uint32Array.from(meta.changes.basePositions);
    }
  };

  function decodeIndex(meta, deflated, slot) {
    var started = performance.now();
    if (!meta || meta.format !== INDEX_FORMAT) throw new Error("주소 색인의 형식이 다릅니다.");
    var bytes = new Uint8Array(meta.dictionaryBytes);
    if (inflateInto(deflated, bytes) !== bytes.length) throw new Error("주소 색인이 잘렸습니다.");
    var section = function (name) {
      var place = meta.sections[name];
      var Type = place[0] === "u32" ? Uint32Array : place[0] === "u16" ? Uint16Array : Uint8Array;
      return new Type(bytes.buffer, place[1], place[2]);
    };
    var names = function (name) { return new NameTable(section(name + "Text"), section(name + "Offsets")); };
    var ix = {
      records: meta.records, shardRows: meta.shardRows,
      sido: meta.sido, sigungu: meta.sigungu,
      roads: names("roads"), roadsEnglish: names("roadsEnglish"),
      dongs: names("dongs"), dongEnglish: names("dongEnglish"), dongParts: names("dongParts"),
      englishOrder: section("englishOrder"),
      roadEntries: section("roadEntries"),
      entrySigungu: section("entrySigungu"),
      entryStart: section("entryStart"),
      entryDongStart: section("entryDongStart"),
      entryDongs: section("entryDongs"),
      sigunguEntries: {start: section("sigunguEntryStart"), items: section("sigunguEntries")},
      dongEntries: {start: section("dongEntryStart"), items: section("dongEntries")},
      dongPartStart: section("dongPartStart"),
      dongPartDongs: section("dongPartDongs"),
      zips: section("zips"),
      dongPairStart: section("dongPairStart"),
      pairZip: section("pairZip"),
      pairStart: section("pairStart"),
      zipPairStart: section("zipPairStart"),
      zipPairs: section("zipPairs"),
      dongRiStart: section("dongRiStart"),
      riPairs: section("riPairs"),
      riPairStart: section("riPairStart"),
      mainStart: section("mainStart"),
      mainBlockKeys: section("mainBlockKeys"),
      mainBlockRows: meta.mainBlockRows,
      shardBytes: meta.shardBytes,
      slot: slot,
      rows: meta.rows,
      rowsDir: DATA_DIR + meta.rows + "/",
      removed: null,  // flags of the ids whose rows CHANGES replaces or removes (BASE only)
      removedList: null,  // those ids, ascending
      idPrefix: meta.idPrefix,
      official: meta.official,
      baseDate: meta.baseDate,
      areaWords: new Map(Object.entries(meta.areaWords)),
      bigMains: meta.bigMains,
      landmarks: new Map()
    };
    var entryCount = ix.entrySigungu.length;
    ix.entryRoad = new Uint32Array(entryCount);
    for (var r = 0; r < ix.roads.length; r++) {
      for (var e = ix.roadEntries[r]; e < ix.roadEntries[r + 1]; e++) ix.entryRoad[e] = r;
    }
    ix.entrySido = new Uint8Array(entryCount);
    for (var n = 0; n < entryCount; n++) ix.entrySido[n] = ix.sigungu[ix.entrySigungu[n]][0];
    ix.pairDong = new Uint16Array(ix.pairZip.length);
    for (var d = 0; d + 1 < ix.dongPairStart.length; d++) {
      ix.pairDong.fill(d, ix.dongPairStart[d], ix.dongPairStart[d + 1]);
    }
    meta.landmarks.forEach(function (item) {
      ix.landmarks.set(item[0], {building: item[1], jibun_address: item[2], lat: item[3], lng: item[4],
                                 admin_code: item[5]});
    });
    ix.flagPool = [];
    ix.flagsInUse = 0;
    ix.memoStamp = new Uint32Array(entryCount);
    ix.memoBase = new Int8Array(entryCount);
    ix.memoByRow = new Int32Array(entryCount);
    ix.candidates = new Uint32Array(entryCount);  // scratch: one search's candidate entries
    if (meta.official) {
      ix.lotRows = meta.lotRows;
      ix.lotBlockRows = meta.lotBlockRows;
      ix.buildingRows = meta.buildingRows;
      ix.underIds = section("underIds");
      ix.underKinds = section("underKinds");
      ix.codeKeys = section("codeKeys");
      ix.codeHigh = section("codeHigh");
      ix.codeLow = section("codeLow");
      ix.lotDongStart = section("lotDongStart");
      ix.lotBlockKeys = section("lotBlockKeys");
      ix.bldFirst = names("bldFirst");
    }
    ix.decodeMs = performance.now() - started;
    return ix;
  }

  // Whether a row of `ix` (default: the index searched now) is replaced or removed by the changes.
  function isRemoved(id, ix) {
    var removed = (ix || IX).removed;
    return removed !== null && ((removed[id >>> 5] >>> (id & 31)) & 1) === 1;
  }

  // How many of the ids in [first, end) are removed.
  function removedBetween(first, end) {
    var list = IX.removedList;
    if (list === null) return 0;
    var keyOf = function (k) { return list[k]; };
    return lowerBound(list.length, keyOf, end) - lowerBound(list.length, keyOf, first);
  }

  // The id of the k-th (from 0) row at or after `first` that is not removed: the least fixed
  // point of id = first + k + (removed ids in [first, id]), which is never a removed id.
  function keptId(first, k) {
    var id = first + k;
    for (;;) {
      var next = first + k + removedBetween(first, id + 1);
      if (next === id) return id;
      id = next;
    }
  }

  function liveRecords() {
    return BASE.records - (BASE.removedList === null ? 0 : BASE.removedList.length)
      + (CHANGES === null ? 0 : CHANGES.records);
  }

  function zipText(zip) {
    return String(IX.zips[zip]).padStart(5, "0");
  }

  function entryOfId(id) {
    return runOf(IX.entryStart, id);
  }

  // ---- Shards: the copies of the rows, loaded on demand, a bounded LRU of decoded ones ---------
  // road: rows in id order (main, sub, pair). dong: by (읍면동/리, zip, id) (id, main, sub).
  // ri: the rows of two-part 읍면동/리 by (리, 읍/면, zip, id) (id, main, sub). main: by (main
  // number, sido, id) (id, sub, pair). A pair is an index into the dictionary's (읍면동/리, zip)
  // pairs; ids are stored as differences. Decoding adds what a row's position gives: its entry,
  // and its pair (dong and ri copies) or main number (main copy).

  // Bytes per row stored in a shard file; decoded, every shard takes 14 bytes per row (road: 10)
  // in a buffer of one size, so that a dropped shard's buffer serves any next one.
  // lot: every address by its lot and by each related lot, ordered by (읍면동/리, 산, 본번, 부번, id)
  // (id, 산 << 15 | 본번, 부번); decoding adds the row's entry and its lot's 읍면동/리. bld and name
  // (official data only) have layouts of their own (decodeBuildings, decodeNames).
  var STORED_BYTES = {road: 6, dong: 8, ri: 8, main: 8, lot: 8};
  var COPY_NUMBER = {road: 0, dong: 1, ri: 2, main: 3, lot: 4, bld: 5, name: 6};
  var DECODED_BYTES = 14;
  var shardCache = new Map();
  var shardLoads = new Map();
  var scriptLoads = new Map();  // the loads by their <script> element
  var cachedBytes = 0;
  var newestKey = -1;
  var spareBuffer = null;  // the buffer of a shard that failed to decode
  var shardsRequested = 0;  // published per query as data-shards-loaded, for benchmarks

  function storedBytes(copy) {
    return copy === "road" && IX.official ? 10 : STORED_BYTES[copy];
  }

  function shardSize(copy, number) {
    var rows = copy === "ri" ? IX.riPairStart[IX.riPairStart.length - 1] : copy === "lot" ? IX.lotRows : IX.records;
    return Math.min(IX.shardRows, rows - number * IX.shardRows);
  }

  // A buffer for one more decoded shard: a new one while the cache has room, else the least
  // recently used shard's (that shard is dropped).
  function shardBuffer() {
    var buffer = spareBuffer, size = IX.shardRows * DECODED_BYTES;
    spareBuffer = null;
    if (buffer !== null) return buffer;
    var reused = null;
    while (cachedBytes + size > SHARD_CACHE_BYTES && shardCache.size > 0) {
      var dropped = dropOldest();
      if (reused === null && dropped.buffer.byteLength === size) reused = dropped.buffer;
    }
    return reused || new ArrayBuffer(size);
  }

  function dropOldest() {
    var oldest = shardCache.keys().next().value, dropped = shardCache.get(oldest);
    shardCache.delete(oldest);
    cachedBytes -= dropped.bytes;
    dropped.dropped = true;  // a reader still waiting for it loads it again
    return dropped;
  }

  function decodeShard(copy, number, base64) {
    if (copy === "bld" || copy === "name") return decodeBlob(copy, number, base64);
    var rows = shardSize(copy, number), full = IX.shardRows, stored = full * storedBytes(copy);
    var buffer = shardBuffer(), written;
    try {
      written = inflateInto(base64, new Uint8Array(buffer, 0, stored));
      if (rows <= 0 || written !== rows * storedBytes(copy)) {
        throw new Error("주소 색인 조각 " + copy + "/" + number + "의 크기가 맞지 않습니다.");
      }
    } catch (error) {
      spareBuffer = buffer;
      throw error;
    }
    var first = number * full, i;
    var shard = {copy: copy, number: number, rows: rows, first: first, buffer: buffer, bytes: buffer.byteLength,
                 dropped: false, id: null, main: null, sub: null, pair: null,
                 entry: new Uint32Array(buffer, stored, rows)};
    if (copy === "road") {
      shard.main = new Uint16Array(buffer, 0, rows);
      shard.sub = new Uint16Array(buffer, 2 * rows, rows);
      shard.pair = new Uint16Array(buffer, 4 * rows, rows);
      if (IX.official) {
        shard.lot = new Uint16Array(buffer, 6 * rows, rows);
        shard.lotSub = new Uint16Array(buffer, 8 * rows, rows);
      }
      fillRuns(shard.entry, IX.entryStart, first, null);
      return shard;
    }
    shard.id = new Uint32Array(buffer, 0, rows);
    for (i = 1; i < rows; i++) shard.id[i] += shard.id[i - 1];  // wraps modulo 2**32, as written
    if (copy === "lot") {
      shard.lot = new Uint16Array(buffer, 4 * rows, rows);
      shard.lotSub = new Uint16Array(buffer, 6 * rows, rows);
      shard.lotDong = new Uint16Array(buffer, stored + 4 * full, rows);
      fillRuns(shard.lotDong, IX.lotDongStart, first, null);
    } else if (copy !== "main") {
      shard.main = new Uint16Array(buffer, 4 * rows, rows);
      shard.sub = new Uint16Array(buffer, 6 * rows, rows);
      shard.pair = new Uint16Array(buffer, stored + 4 * full, rows);
      // The copy's runs are its pairs': in pair order (dong), or as riPairs lists them (ri).
      fillRuns(shard.pair, copy === "dong" ? IX.pairStart : IX.riPairStart, first,
               copy === "dong" ? null : IX.riPairs);
    } else {
      shard.sub = new Uint16Array(buffer, 4 * rows, rows);
      shard.pair = new Uint16Array(buffer, 6 * rows, rows);
      shard.main = new Uint16Array(buffer, stored + 4 * full, rows);
      fillRuns(shard.main, IX.mainStart, first, null);
    }
    // Within a run of the copy ids ascend, so the previous row's entry is usually right.
    var entryStarts = IX.entryStart, last = -1;
    for (i = 0; i < rows; i++) {
      var id = shard.id[i];
      if (last < 0 || id < entryStarts[last] || id >= entryStarts[last + 1]) {
        var next = last >= 0 && id >= entryStarts[last + 1] && id < entryStarts[last + 2];
        last = next ? last + 1 : entryOfId(id);
      }
      shard.entry[i] = last;
    }
    return shard;
  }

  // bld: one shard of the building copy, every part of every building name with its addresses in
  // (part, id) order: ids (as differences), pair, main, sub per row, then its distinct parts as
  // UTF-8 with where each part's rows start. name: the building names of 2,048 addresses by id.
  var blobScratch = new Uint8Array(1 << 21);
  function decodeBlob(copy, number, base64) {
    var written = inflateInto(base64, blobScratch), size = (written + 3) & ~3;
    while (cachedBytes + size > SHARD_CACHE_BYTES && shardCache.size > 0) dropOldest();
    var buffer = blobScratch.buffer.slice(0, size);
    var shard = {copy: copy, number: number, buffer: buffer, bytes: buffer.byteLength, dropped: false};
    if (copy === "name") {
      var count = Math.min(IX.shardRows, IX.records - number * IX.shardRows);
      shard.first = number * IX.shardRows;
      shard.offsets = new Uint32Array(buffer, 0, count + 1);
      shard.text = new Uint8Array(buffer, 4 * (count + 1), written - 4 * (count + 1));
      return shard;
    }
    var rows = Math.min(IX.shardRows, IX.buildingRows - number * IX.shardRows);
    var keys = new Uint32Array(buffer, 0, 1)[0], at = 4;
    shard.keyStart = new Uint32Array(buffer, at, keys + 1);
    var offsets = new Uint32Array(buffer, at += 4 * (keys + 1), keys + 1);
    shard.rows = rows;
    shard.id = new Uint32Array(buffer, at += 4 * (keys + 1), rows);
    for (var i = 1; i < rows; i++) shard.id[i] += shard.id[i - 1];
    shard.pair = new Uint16Array(buffer, at += 4 * rows, rows);
    shard.main = new Uint16Array(buffer, at += 2 * rows, rows);
    shard.sub = new Uint16Array(buffer, at += 2 * rows, rows);
    at += 2 * rows;
    shard.keys = new NameTable(new Uint8Array(buffer, at, written - at), offsets);
    return shard;
  }

  // out[i] = the run (of ascending `starts`) that holds row first + i, or what `names` lists for it.
  function fillRuns(out, starts, first, names) {
    for (var i = 0, run = runOf(starts, first); i < out.length; i++) {
      while (starts[run + 1] <= first + i) run++;
      out[i] = names === null ? run : names[run];
    }
  }

  // Numbers, not strings, key the shards: a scan asks for its shards row by row. The index
  // searched now (BASE or CHANGES) is part of the key.
  function shardKey(copy, number) {
    return 2 * (8 * number + COPY_NUMBER[copy]) + IX.slot;
  }

  // A shard file calls this with its data as base64 in the comment of `data` (build_index.py's
  // write_shards says why). Its <script> element says which load, and so which index, it is: it
  // may run while the other index is being searched.
  window.searchaddrShard = function (copy, number, data) {
    var load = scriptLoads.get(document.currentScript);
    if (!load || load.copy !== copy || load.number !== number) return;
    scriptLoads.delete(load.script);
    shardLoads.delete(load.key);
    load.script.remove();
    var searched = IX;
    IX = load.ix;
    try {
      var text = Function.prototype.toString.call(data);
      var shard = decodeShard(copy, number, text.slice(text.indexOf("/*") + 2, text.lastIndexOf("*/")));
    } catch (error) {
      load.reject(error);
      return;
    } finally {
      IX = searched;
    }
    remember(load.key, shard);
    load.resolve(shard);
  };

  function remember(key, shard) {
    shardCache.set(key, shard);
    newestKey = key;
    cachedBytes += shard.bytes;
  }

  // A decoded shard if the page has it (now the most recently used), else null.
  function cachedShard(copy, number) {
    var key = shardKey(copy, number);
    var shard = shardCache.get(key);
    if (!shard) return null;
    if (key !== newestKey) {
      shardCache.delete(key);
      shardCache.set(key, shard);
      newestKey = key;
    }
    return shard;
  }

  // Starts loading a shard the page neither has nor is loading; returns its load, if any.
  // Loading is one <script> (file:// allows no fetch); the element is removed once it ran.
  function requestShard(copy, number) {
    var key = shardKey(copy, number);
    if (shardCache.has(key)) return null;
    var load = shardLoads.get(key);
    if (load) return load;
    shardsRequested++;
    load = {copy: copy, number: number, key: key, ix: IX};
    load.promise = new Promise(function (resolve, reject) { load.resolve = resolve; load.reject = reject; });
    load.promise.catch(function () {});  // a load asked for ahead fails where it is awaited
    load.script = document.createElement("script");
    load.script.src = IX.rowsDir + copy + "/" + number + ".js";
    load.script.onerror = function () {
      scriptLoads.delete(load.script);
      shardLoads.delete(key);
      load.script.remove();
      load.reject(new Error("주소 색인 조각 " + copy + "/" + number + "을 읽지 못했습니다."));
    };
    shardLoads.set(key, load);
    scriptLoads.set(load.script, load);
    document.head.appendChild(load.script);
    return load;
  }

  // The decoded shard, loading it if need be. Read it before the next await: after that its
  // buffer may serve another shard.
  async function shardOf(copy, number) {
    for (;;) {
      var shard = cachedShard(copy, number);
      if (shard) return shard;
      shard = await requestShard(copy, number).promise;
      if (!shard.dropped) return shard;
    }
  }

  // Calls visit(shard) for each of `numbers` in turn, the next LOAD_AHEAD already loading.
  async function visitShards(copy, numbers, visit) {
    var requested = 0;
    for (var k = 0; k < numbers.length; k++) {
      for (; requested < numbers.length && requested < k + LOAD_AHEAD; requested++) {
        requestShard(copy, numbers[requested]);
      }
      visit(cachedShard(copy, numbers[k]) || await shardOf(copy, numbers[k]));
    }
  }

  // ---- Queries (docs/search.md) ---------------------------------------------------------------

  function codePoints(text) {
    return Array.from(text).length;
  }

  function buildingPart(digits) {
    // Building numbers are written without leading zeros: "0110" is no building number.
    return digits[0] === "0" || digits.length > 6 ? -1 : Number(digits);
  }

  // The query's words: split at SEPARATORS, a glued building number split off its road name.
  function queryTokens(query) {
    var tokens = [];
    query.normalize("NFC").split(SEPARATORS).forEach(function (token) {
      var glued = GLUED_NUMBER.exec(token);
      if (glued) tokens.push(glued[1], glued[2]);
      else if (token) tokens.push(token);
    });
    return tokens;
  }

  function parseQuery(query) {
    var parsed = {words: [], english: [], numbers: [], fives: [], mountain: false, underground: false};
    var run = null;
    var tokens = queryTokens(query);
    tokens.forEach(function (token, at) {
      if (LATIN.test(token) && !HANGUL.test(token)) {
        if (run === null) parsed.english.push(run = []);
        run.push(token);
        return;
      }
      run = null;
      // 산 before a lot number (산 20-3, 산20-3); 지하 before an underground building's number.
      var mountain = MOUNTAIN_NUMBER.exec(token);
      if ((token === "산" && NUMBER.test(tokens[at + 1] || "")) || mountain) {
        parsed.mountain = true;
        if (mountain) parsed.numbers.push({main: buildingPart(mountain[1]),
                                           sub: mountain[2] === undefined ? null : buildingPart(mountain[2])});
        return;
      }
      if (token === "지하" && IX.official) {
        parsed.underground = true;
        return;
      }
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
    var key = UTF8_ENCODER.encode(text);
    var word = newWord(text, key, codePoints(text) >= 2);
    var listed = ix.areaWords.get(text);
    if (listed) setSigungu(word, listed);
    var lo = ix.roads.bound(key, false);
    if (lo < ix.roads.length && ix.roads.compare(lo, key, false) === 0) word.roadEq = lo;
    if (word.prefixable) {
      word.prefixLo = lo;
      word.prefixHi = ix.roads.bound(key, true);
    }
    var part = ix.dongParts.find(key);
    if (part >= 0) setDongs(word, Array.from(ix.dongPartDongs.subarray(ix.dongPartStart[part], ix.dongPartStart[part + 1])));
    return estimated(word);
  }

  // A word that matches nothing yet: no area, road or 읍면동/리.
  function newWord(text, key, prefixable) {
    return {text: text, key: key, prefixable: prefixable, englishArea: false, sigungu: null, sigunguList: [],
            roadEq: -1, prefixLo: 0, prefixHi: 0, englishRoads: null, dongFlags: null, dongList: [], estimate: 0};
  }

  function setSigungu(word, listed) {
    word.sigungu = new Uint8Array(IX.sigungu.length);
    listed.forEach(function (g) { word.sigungu[g] = 1; });
    word.sigunguList = listed;
  }

  function setDongs(word, dongs) {
    word.dongFlags = scratchFlags(IX, IX.dongs.length);
    dongs.forEach(function (d) { word.dongFlags[d] = 1; });
    word.dongList = dongs;
  }

  // The entries a word's candidates count: what choosing the term to start from costs.
  function estimated(word) {
    var ix = IX;
    var estimate = roadEntryCount(word.prefixLo, word.prefixHi);
    if (word.roadEq >= 0 && word.prefixHi <= word.roadEq) estimate += roadEntryCount(word.roadEq, word.roadEq + 1);
    word.sigunguList.forEach(function (g) {
      estimate += ix.sigunguEntries.start[g + 1] - ix.sigunguEntries.start[g];
    });
    word.dongList.forEach(function (d) { estimate += ix.dongEntries.start[d + 1] - ix.dongEntries.start[d]; });
    if (word.englishRoads !== null) {
      word.englishRoads.forEach(function (state, road) { estimate += roadEntryCount(road, road + 1); });
    }
    word.estimate = estimate;
    return word;
  }

  // English area names as english_address writes them, by englishKey: each sido's English name
  // and that name without its last part (Sejong-si and Sejong, Gangwon State and Gangwon) for the
  // sigungu its Korean name finds; each part of a sigungu's (Bundang-gu, Seongnam-si); each
  // 읍/면's (Gunnam-myeon) for its 읍면동/리. Made on first use.
  function englishAreas() {
    var ix = IX;
    if (ix.englishAreas) return ix.englishAreas;
    var areas = new Map();
    var area = function (name) {
      var key = englishKey(name);
      if (!areas.has(key)) areas.set(key, {sigungu: [], dongs: []});
      return areas.get(key);
    };
    ix.sido.forEach(function (sido) {
      var parts = sido[1].split(/[- ]/), listed = ix.areaWords.get(sido[0]);
      var names = parts.length > 1 ? [sido[1], parts.slice(0, -1).join(" ")] : [sido[1]];
      names.forEach(function (name) { Array.prototype.push.apply(area(name).sigungu, listed); });
    });
    ix.sigungu.forEach(function (sigungu, g) {
      sigungu[2].split(", ").forEach(function (part) { if (part) area(part).sigungu.push(g); });
    });
    // 읍면동/리 sort by name, so those of one 읍/면 are neighbours: its name is read once.
    var table = ix.dongEnglish, named = -1, found = null;
    for (var d = 0; d < ix.dongs.length; d++) {
      if (table.offsets[d] === table.offsets[d + 1]) continue;  // not in a 읍/면
      if (named < 0 || !table.equal(named, d)) {
        found = area(table.get(d));
        named = d;
      }
      found.dongs.push(d);
    }
    return (ix.englishAreas = areas);
  }

  // An English name (englishKey'd) read from its end: the area names it ends with (Sejong-daero
  // Jung-gu Seoul), the longest that fits first, and the road name before them ("" when none).
  function englishParts(name) {
    var areas = englishAreas(), found = [];
    for (var at = 0; at < name.length;) {
      var area = areas.get(name.slice(at));
      if (area === undefined) {
        at++;
        continue;
      }
      found.push([name.slice(at), area]);
      name = name.slice(0, at);
      at = 0;
    }
    return {road: name, areas: found};
  }

  // An English area name as a word, as the area's Korean name is one: it matches the addresses of
  // its areas, or only as the start of a longer road name, those whose romanized road name starts
  // with it. It names no 읍면동/리 part or building.
  function prepareArea(name, area) {
    var word = newWord("", new Uint8Array(0), false);
    word.englishArea = true;
    if (area.sigungu.length) setSigungu(word, area.sigungu);
    if (area.dongs.length) setDongs(word, area.dongs);
    word.englishRoads = prepareEnglish(name).roads;
    return estimated(word);
  }

  // Road `road`'s romanized name against `key` (ASCII bytes), compared without case, spaces or
  // hyphens (englishKey): negative, 0 or positive; with `asPrefix`, starting with it is equal.
  function compareEnglish(road, key, asPrefix) {
    var table = IX.roadsEnglish, text = table.text, matched = 0;
    for (var at = table.offsets[road], end = table.offsets[road + 1]; at < end; at++) {
      var c = text[at];
      if (c === 32 || c === 45) continue;
      if (c >= 65 && c <= 90) c += 32;
      if (matched === key.length) return asPrefix ? 0 : 1;
      var difference = c - key[matched++];
      if (difference !== 0) return difference;
    }
    return matched - key.length;
  }

  function prepareEnglish(text) {
    var ix = IX;
    var order = ix.englishOrder;
    var count = order.length;
    var key = UTF8_ENCODER.encode(text);
    var name = {text: text, roads: new Map(), estimate: 0};
    var lo = 0, hi = count;
    while (lo < hi) {
      var mid = (lo + hi) >>> 1;
      if (compareEnglish(order[mid], key, false) < 0) lo = mid + 1; else hi = mid;
    }
    var prefix = codePoints(text) >= 2;
    for (var i = lo; i < count; i++) {
      var road = order[i];
      if (compareEnglish(road, key, false) === 0) name.roads.set(road, EXACT);
      else if (prefix && compareEnglish(road, key, true) === 0) name.roads.set(road, PREFIX_ONLY);
      else break;
      name.estimate += roadEntryCount(road, road + 1);
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
    if (term.englishRoads !== null) candidateEntries({roads: term.englishRoads}, visit);
    var groups = [[ix.sigunguEntries, term.sigunguList], [ix.dongEntries, term.dongList]];
    groups.forEach(function (group) {
      var index = group[0];
      group[1].forEach(function (key) {
        for (var k = index.start[key]; k < index.start[key + 1]; k++) visit(index.items[k]);
      });
    });
  }

  // PREFIX_ONLY when a word starts the name of `road` (or its romanized name, for an English area
  // name), else NONE.
  function prefixState(word, road) {
    if (road >= word.prefixLo && road < word.prefixHi) return PREFIX_ONLY;
    return word.englishRoads !== null && word.englishRoads.has(road) ? PREFIX_ONLY : NONE;
  }

  // How a word matches an entry: EXACT, PREFIX_ONLY, NONE, or BY_ROW (its 읍면동/리 decides).
  function wordState(word, entry, road, sigungu) {
    if ((word.sigungu !== null && word.sigungu[sigungu]) || road === word.roadEq) return EXACT;
    var fallback = prefixState(word, road);
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
    var words = this.words = parsed.words.map(prepareWord), english = this.english = [];
    parsed.english.forEach(function (name) {
      var parts = englishParts(name);
      if (parts.road) english.push(prepareEnglish(parts.road));
      parts.areas.forEach(function (area) { words.push(prepareArea(area[0], area[1])); });
    });
    this.numbers = parsed.numbers;
    this.fives = parsed.fives;
    this.mountain = parsed.mountain;
    this.underground = parsed.underground;
    this.findsNothing = false;  // by road name, area and building number (the lots may still match)
    this.upgrades = new Set();  // found by road search as not exact, and exactly by a lot or building name
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
        (byRow || (byRow = [])).push([word, prefixState(word, road)]);
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
  Search.prototype.rowState = function (entry, id, main, sub, pair) {
    var ix = IX, state = ix.memoBase[entry], slot = ix.memoByRow[entry];
    if (this.underground && underKind(id) !== 1) return NONE;
    if (slot >= 0) {
      var byRow = this.byRow[slot], dong = ix.pairDong[pair];
      for (var i = 0; i < byRow.length; i++) {
        var wordRow = byRow[i][0].dongFlags[dong] ? EXACT : byRow[i][1];
        if (wordRow === NONE) return NONE;
        if (wordRow < state) state = wordRow;
      }
    }
    return this.numberState(main, sub, pair, state);
  };

  // `state` narrowed by the query's numbers and zips for a row with this building number and pair.
  Search.prototype.numberState = function (main, sub, pair, state) {
    var ix = IX;
    for (var n = 0; n < this.numbers.length; n++) {
      var number = this.numbers[n];
      if (main !== number.main) return NONE;
      if (number.sub === null) {
        if (sub !== 0) state = PREFIX_ONLY;
      } else if (sub !== number.sub) return NONE;
    }
    for (var f = 0; f < this.fives.length; f++) {
      var five = this.fives[f];
      if (ix.pairZip[pair] === five.zip) continue;
      if (main !== five.main) return NONE;
      if (sub !== 0) state = PREFIX_ONLY;
    }
    return state;
  };

  // The matches' total and the addresses at positions [start, end) of their order (exact ones
  // first, each group in id order): {total, page() -> promise of addresses}.
  // The matches' total and the addresses at positions [start, end) of their order. With official
  // data, addresses found by a lot or a building name join those found by road and number.
  Search.prototype.run = async function (start, end) {
    if (!IX.official) return this.roadMatches(start, end, false);
    var found = await this.roadMatches(start, end, true), extras = new Map();
    if (this.findsLots()) await this.addLots(extras);
    await this.addBuildings(extras);
    return new MergedMatches(this, found, extras, start, end);
  };

  // The addresses found by road name, area, 읍면동/리, building number and zip (docs/search.md);
  // `raw`: their groups of ids (MergedMatches), not yet a page.
  Search.prototype.roadMatches = async function (start, end, raw) {
    var ix = IX, self = this;
    this.fives.forEach(function (five) {
      var z = lowerBound(ix.zips.length, function (k) { return ix.zips[k]; }, Number(five.text));
      five.zip = z < ix.zips.length && ix.zips[z] === Number(five.text) ? z : -1;
    });
    if ((!this.words.length && !this.english.length && !this.fives.length) || this.mountain) {
      this.findsNothing = true;
      return raw ? new RowMatches(this, false, 0) : new RowMatches(this, false, 0).finish(start, end);
    }
    if (this.fives.length) {
      var zipRows = await this.scanZip(this.fives[0], end);
      return raw ? zipRows : zipRows.finish(start, end);
    }
    var terms = this.words.concat(this.english);
    var smallest = terms.reduce(function (a, b) { return b.estimate < a.estimate ? b : a; });
    var candidates = ix.candidates, count = 0, byRows = this.numbers.length > 0;
    candidateEntries(smallest, function (e) {
      if (ix.memoStamp[e] === self.stamp) return;  // already seen
      if (self.entryState(e) === NONE) return;
      candidates[count++] = e;
      if (ix.memoByRow[e] >= 0) byRows = true;
    });
    var entries = candidates.subarray(0, count).sort();
    if (!byRows && !this.underground) return new EntryMatches(entries, raw ? 0 : start, end, raw);
    var plan = this.cheapestPlan(entries);
    var found = new RowMatches(this, !plan.ordered, end);
    for (var k = 0; k < plan.parts.length; k++) await this.scan(plan.parts[k], found, true);
    return raw ? found : found.finish(start, end);
  };

  // Whether road-name search finds this row (then it is counted there already).
  Search.prototype.roadState = function (entry, id, main, sub, pair) {
    if (this.findsNothing || this.entryState(entry) === NONE) return NONE;
    return this.rowState(entry, id, main, sub, pair);
  };

  // ---- Lots and building names (official data; docs/search.md) -------------------------------

  // A lot is asked for by one number (산 before it for a 산 lot) after Korean words that name its
  // 읍면동/리 and, optionally, its area.
  Search.prototype.findsLots = function () {
    return this.numbers.length === 1 && this.numbers[0].main > 0 && this.words.length > 0
      && !this.english.length && !this.words.some(function (w) { return w.englishArea; })
      && !this.fives.length && !this.underground;
  };

  Search.prototype.addLots = async function (extras) {
    var ix = IX, self = this, number = this.numbers[0];
    if (number.main >= 16384 || (number.sub !== null && (number.sub < 0 || number.sub >= 4096))) return;
    var key = (this.mountain ? MOUNTAIN_BIT : 0) | number.main, dongs = new Set(), runs = [];
    this.words.forEach(function (word) { word.dongList.forEach(function (d) { dongs.add(d); }); });
    dongs.forEach(function (d) {
      var fits = self.words.every(function (w) { return w.sigungu !== null || (w.dongFlags !== null && w.dongFlags[d]); });
      if (fits) runs.push(blockRunBetween(ix.lotBlockKeys, ix.lotBlockRows, ix.lotDongStart[d],
                                          ix.lotDongStart[d + 1], d * 65536 + key, d * 65536 + key + 1));
    });
    var part = new PlanPart("lot", mergedRuns(runs.filter(function (r) { return r[0] < r[1]; })));
    var found = [];
    await visitShards("lot", part.shards(), function (shard) {
      for (var at = 0; at < shard.rows; at++) {
        if (shard.lot[at] !== key || !dongs.has(shard.lotDong[at])) continue;
        var lotSub = shard.lotSub[at], state = EXACT;
        if (number.sub !== null ? lotSub !== number.sub : lotSub !== 0) state = number.sub === null ? PREFIX_ONLY : NONE;
        if (state === NONE) continue;
        var sigungu = ix.entrySigungu[shard.entry[at]], dong = shard.lotDong[at];
        var all = self.words.every(function (w) {
          return (w.sigungu !== null && w.sigungu[sigungu] === 1) || (w.dongFlags !== null && w.dongFlags[dong] === 1);
        });
        if (all) found.push(shard.id[at], state);
      }
    });
    for (var k = 0; k < found.length; k += 2) {
      var id = found[k], row = await roadRow(id);
      this.found(extras, id, this.roadState(row.entry, id, row.main, row.sub, row.pair), found[k + 1]);
    }
  };

  // Records an address found by its lot or building name with `state`; `byRoad`: what road search
  // made of it. The best of the ways it matches ranks it.
  Search.prototype.found = function (extras, id, byRoad, state) {
    if (isRemoved(id)) return;
    if (byRoad === NONE) {
      if (!(extras.get(id) >= state)) extras.set(id, state);
    } else if (byRoad === PREFIX_ONLY && state === EXACT) {
      this.upgrades.add(id);
    }
  };

  async function roadRow(id) {
    var shard = cachedShard("road", Math.floor(id / IX.shardRows)) || await shardOf("road", Math.floor(id / IX.shardRows));
    var at = id - shard.first;
    return {entry: shard.entry[at], main: shard.main[at], sub: shard.sub[at], pair: shard.pair[at]};
  }

  // The building copy's shards that can hold a word's parts: [first, end) and their count.
  function buildingShards(word) {
    var table = IX.bldFirst, key = word.key;
    if (table.length === 0) return [0, 0];
    var first = Math.max(0, table.bound(key, false) - 1), end = first + 1;
    if (word.prefixable) {
      end = Math.max(end, table.bound(key, true));
    } else {  // only a whole part: the shards that start with it, and the one before
      for (var e = first + 1; e < table.length && table.compare(e, key, false) === 0; e++) end = e + 1;
    }
    return [first, Math.min(end, table.length)];
  }

  // How a word matches a part of a building name: whole (EXACT), as its start (PREFIX_ONLY), or NONE.
  function partState(word, table, i) {
    if (table.compare(i, word.key, false) === 0) return EXACT;
    return word.prefixable && table.compare(i, word.key, true) === 0 ? PREFIX_ONLY : NONE;
  }

  // Addresses whose building name a word starts, where every other term matches as on a road
  // search, or by the building name too; each word counts its best match.
  Search.prototype.addBuildings = async function (extras) {
    var self = this, pending = [];  // [id, road search's state, states of the words so far, words to try on the name]
    for (var w = 0; w < this.words.length; w++) {
      if (this.words[w].englishArea) continue;  // it names no building
      var word = this.words[w], range = buildingShards(word), numbers = [];
      for (var n = range[0]; n < range[1]; n++) numbers.push(n);
      await visitShards("bld", numbers, function (shard) {
        var keys = shard.keys;
        for (var k = 0; k < keys.length; k++) {
          var state = partState(word, keys, k);
          if (state === NONE) continue;
          for (var at = shard.keyStart[k]; at < shard.keyStart[k + 1]; at++) {
            var id = shard.id[at], entry = entryOfId(id);
            var byRoad = self.roadState(entry, id, shard.main[at], shard.sub[at], shard.pair[at]);
            if (byRoad === EXACT || (byRoad === PREFIX_ONLY && state !== EXACT)) continue;
            var row = self.otherTerms(word, entry, id, shard.main[at], shard.sub[at], shard.pair[at], state);
            if (row === null) continue;
            if (row.byName.length) pending.push([id, byRoad, row.state, row.byName]);
            else self.found(extras, id, byRoad, row.state);
          }
        }
      });
    }
    for (var p = 0; p < pending.length; p++) {
      var parts = partsTable(await buildingName(pending[p][0])), rowState = pending[p][2];
      pending[p][3].forEach(function (other) {
        var best = other[1];
        for (var i = 0; i < parts.length; i++) best = Math.max(best, partState(other[0], parts, i));
        rowState = Math.min(rowState, best);
      });
      if (rowState !== NONE) this.found(extras, pending[p][0], pending[p][1], rowState);
    }
  };

  // A row's state for every term but `skip` (whose state is `state`), as a road search judges it;
  // words that match it less than exactly there are left in byName as [word, state] for its
  // building name to decide. null: the row cannot match.
  Search.prototype.otherTerms = function (skip, entry, id, main, sub, pair, state) {
    var ix = IX, road = ix.entryRoad[entry], sigungu = ix.entrySigungu[entry], byName = [];
    if (this.underground && underKind(id) !== 1) return null;
    for (var i = 0; i < this.words.length; i++) {
      var word = this.words[i];
      if (word === skip) continue;
      var wordRow = wordState(word, entry, road, sigungu);
      if (wordRow === BY_ROW) {
        wordRow = word.dongFlags[ix.pairDong[pair]] ? EXACT : prefixState(word, road);
      }
      if (wordRow !== EXACT) byName.push([word, wordRow]);
    }
    for (var k = 0; k < this.english.length; k++) {
      state = Math.min(state, this.english[k].roads.get(road) || NONE);
    }
    state = this.numberState(main, sub, pair, state);
    return state === NONE ? null : {state: state, byName: byName};
  };

  // A building name's parts, split as a query is, as a NameTable.
  function partsTable(name) {
    var encoded = name.split(SEPARATORS).filter(Boolean).map(function (part) { return UTF8_ENCODER.encode(part); });
    var offsets = new Uint32Array(encoded.length + 1), text = new Uint8Array(encoded.reduce(function (n, e) {
      return n + e.length;
    }, 0));
    encoded.forEach(function (bytes, i) {
      text.set(bytes, offsets[i]);
      offsets[i + 1] = offsets[i] + bytes.length;
    });
    return new NameTable(text, offsets);
  }

  function underKind(id) {
    var ids = IX.underIds;
    if (!ids) return 0;
    var at = lowerBound(ids.length, function (k) { return ids[k]; }, id);
    return at < ids.length && ids[at] === id ? IX.underKinds[at] : 0;
  }

  async function buildingName(id) {
    var number = Math.floor(id / IX.shardRows);
    var shard = cachedShard("name", number) || await shardOf("name", number);
    var at = id - shard.first;
    return UTF8_DECODER.decode(shard.text.subarray(shard.offsets[at], shard.offsets[at + 1]));
  }

  // Road matches (their groups of the first ids) and the addresses only lots and building names
  // found (`extras`, id -> state), as one order: exact ones first, each group by id.
  function MergedMatches(search, found, extras, start, end) {
    var groups = found.groupIds(end), added = [[], []];
    search.upgrades.forEach(function (id) {
      groups[1].count--;
      var at = groups[1].ids.indexOf(id);
      if (at >= 0) groups[1].ids.splice(at, 1);
      added[0].push(id);
    });
    extras.forEach(function (state, id) { added[state === EXACT ? 0 : 1].push(id); });
    var lists = [0, 1].map(function (g) {
      return mergeSorted(groups[g].ids, added[g].sort(function (a, b) { return a - b; }), end);
    });
    var counts = [groups[0].count + added[0].length, groups[1].count + added[1].length];
    this.lists = lists;  // each group's first `end` ids, and its count: what Combined merges
    this.counts = counts;
    this.total = counts[0] + counts[1];
    this.ids = [];
    for (var p = start; p < end && p < this.total; p++) {
      this.ids.push(p < counts[0] ? lists[0][p] : lists[1][p - counts[0]]);
    }
  }
  MergedMatches.prototype.page = async function () {
    var out = [];
    for (var j = 0; j < this.ids.length; j++) out.push(await addressById(this.ids[j]));
    return out;
  };

  // The matches of BASE and CHANGES as one order: exact ones first, each group in the order a
  // full build gives (a changed row takes its place among BASE's rows, before the one at its
  // basePosition). Ids are [index, id] pairs.
  function Combined(base, changed, start, end) {
    var lists = [0, 1].map(function (g) {
      var a = base.lists[g], b = changed.lists[g], out = [], i = 0, j = 0;
      var positions = CHANGES.basePositions;
      while (out.length < end && (i < a.length || j < b.length)) {
        if (j >= b.length || (i < a.length && 2 * a[i] + 1 < 2 * positions[b[j]])) out.push([BASE, a[i++]]);
        else out.push([CHANGES, b[j++]]);
      }
      return out;
    });
    var counts = [base.counts[0] + changed.counts[0], base.counts[1] + changed.counts[1]];
    this.total = counts[0] + counts[1];
    this.ids = [];
    for (var p = start; p < end && p < this.total; p++) {
      this.ids.push(p < counts[0] ? lists[0][p] : lists[1][p - counts[0]]);
    }
  }
  Combined.prototype.page = async function () {
    var out = [];
    try {
      for (var j = 0; j < this.ids.length; j++) {
        IX = this.ids[j][0];
        out.push(await addressById(this.ids[j][1]));
      }
    } finally {
      IX = BASE;
    }
    return out;
  };

  // The matches' total and page, in BASE and the changes made since.
  async function searchBoth(parsed, start, end) {
    IX = BASE;
    if (CHANGES === null) return new Search(parsed).run(start, end);
    try {
      var base = await new Search(parsed).run(0, end);
      IX = CHANGES;
      var changed = await new Search(parsed).run(0, end);
    } finally {
      IX = BASE;
    }
    return new Combined(base, changed, start, end);
  }

  function mergeSorted(a, b, limit) {
    var out = [], i = 0, j = 0;
    while (out.length < limit && (i < a.length || j < b.length)) {
      out.push(j >= b.length || (i < a.length && a[i] < b[j]) ? a[i++] : b[j++]);
    }
    return out;
  }

  // A part of a plan: runs of one copy (flat [first, end, first, end, ...], ascending) and,
  // optionally, flags of the 읍면동/리 whose rows another part reads.
  function PlanPart(copy, runs, skipDongs) {
    this.copy = copy;
    this.runs = runs;
    this.skipDongs = skipDongs || null;
  }
  // The shards the runs lie in, ascending.
  PlanPart.prototype.shards = function () {
    var shards = [], runs = this.runs, rowsPerShard = IX.shardRows;
    for (var k = 0; k < runs.length; k += 2) {
      if (runs[k] >= runs[k + 1]) continue;
      var s = Math.floor(runs[k] / rowsPerShard);
      if (shards.length && shards[shards.length - 1] >= s) s = shards[shards.length - 1] + 1;
      for (; s * rowsPerShard < runs[k + 1]; s++) shards.push(s);
    }
    return shards;
  };

  // Rows to read plus the cost of loading each shard not loaded, for runs given as eachRun(onRun).
  function runsCost(copy, eachRun) {
    var cost = 0, lastShard = -1, rowsPerShard = IX.shardRows;
    var loadCost = LOAD_COST_ROWS_PER_KB * IX.shardBytes[copy] / 1024;
    eachRun(function (first, end) {
      if (first >= end) return;
      cost += end - first;
      for (var s = Math.max(Math.floor(first / rowsPerShard), lastShard + 1); s * rowsPerShard < end; s++) {
        if (!shardCache.has(shardKey(copy, s))) cost += loadCost;
        lastShard = s;
      }
    });
    return cost;
  }

  function entryRuns(entries) {
    var ix = IX, runs = [];
    entries.forEach(function (e) {
      var first = ix.entryStart[e], end = ix.entryStart[e + 1];
      if (runs.length && runs[runs.length - 1] === first) runs[runs.length - 1] = end;
      else runs.push(first, end);
    });
    return runs;
  }

  // The rows of these 읍면동/리 in the dong copy, as ascending runs.
  function dongRuns(dongs) {
    var ix = IX;
    return mergedRuns(dongs.map(function (d) {
      return [ix.pairStart[ix.dongPairStart[d]], ix.pairStart[ix.dongPairStart[d + 1]]];
    }));
  }

  // The same in the ri copy, or null if one of them has no 리 (one-part names are not in it).
  function riRuns(dongs) {
    var ix = IX;
    if (dongs.some(function (d) { return ix.dongRiStart[d] === NO_RI; })) return null;
    return mergedRuns(dongs.map(function (d) {
      var first = ix.dongRiStart[d], pairs = ix.dongPairStart[d + 1] - ix.dongPairStart[d];
      return [ix.riPairStart[first], ix.riPairStart[first + pairs]];
    }));
  }

  // [[first, end], ...] -> flat ascending runs, those that touch joined.
  function mergedRuns(pairs) {
    var runs = [];
    pairs.sort(function (a, b) { return a[0] - b[0]; }).forEach(function (run) {
      if (runs.length && runs[runs.length - 1] === run[0]) runs[runs.length - 1] = run[1];
      else runs.push(run[0], run[1]);
    });
    return runs;
  }

  // Per sido: [first id, last id + 1] of the candidate entries (ascending) in it, or null.
  function candidateIdsBySido(entries) {
    var ix = IX, bySido = ix.sido.map(function () { return null; });
    for (var k = 0; k < entries.length; k++) {
      var e = entries[k], ids = bySido[ix.entrySido[e]];
      if (ids === null) bySido[ix.entrySido[e]] = [ix.entryStart[e], ix.entryStart[e + 1]];
      else ids[1] = ix.entryStart[e + 1];
    }
    return bySido;
  }

  // The main copy sorts a number's rows [first, end) by key sido * ID_LIMIT + id. Returns a run
  // [from, to) within them holding every row whose key is in [low, high), to within a block of
  // rows: the dictionary has the key of every mainBlockRows-th row.
  function mainRunBetween(first, end, low, high) {
    return blockRunBetween(IX.mainBlockKeys, IX.mainBlockRows, first, end, low, high);
  }

  // The same for any copy sorted by a key of which the dictionary has every size-th row's.
  function blockRunBetween(keys, size, first, end, low, high) {
    if (first >= end) return [first, first];
    var firstBlock = Math.ceil(first / size), lastBlock = Math.floor((end - 1) / size);
    var atLeast = function (key) {  // the first block in [firstBlock, lastBlock] whose key >= key
      var lo = firstBlock, hi = Math.max(firstBlock, lastBlock + 1);
      while (lo < hi) {
        var mid = (lo + hi) >>> 1;
        if (keys[mid] < key) lo = mid + 1; else hi = mid;
      }
      return lo;
    };
    var from = atLeast(low), to = atLeast(high);
    return [from > firstBlock ? (from - 1) * size : first, to <= lastBlock ? to * size : end];
  }

  // Where the matches can be, as the parts of a plan; the one that loads and reads least wins:
  // - every row of the candidate entries (road copy, in id order);
  // - every row with a number's main number in the sidos and id ranges of the candidates (main
  //   copy; in id order within a sido);
  // - for a word that names a 읍면동/리: every row of those (dong copy, or the ri copy where a 리's
  //   rows lie together), plus the rows of the candidate entries the word matches otherwise (by
  //   area or road name; road copy).
  Search.prototype.cheapestPlan = function (entries) {
    var ix = IX;
    var entriesCost = function (accept) {
      return runsCost("road", function (onRun) {
        for (var k = 0; k < entries.length; k++) {
          var e = entries[k];
          if (accept === null || accept(e)) onRun(ix.entryStart[e], ix.entryStart[e + 1]);
        }
      });
    };
    var runsOf = function (runs) {
      return function (onRun) {
        for (var k = 0; k < runs.length; k += 2) onRun(runs[k], runs[k + 1]);
      };
    };
    var best = {cost: entriesCost(null), ordered: true,
                parts: function () { return [new PlanPart("road", entryRuns(entries))]; }};
    var consider = function (plan) {
      if (plan.cost < best.cost) best = plan;
    };
    var sidoIds = candidateIdsBySido(entries);
    this.numbers.forEach(function (number) {
      var runs = [], sidos = 0, main = number.main;
      if (main >= 0 && main + 1 < ix.mainStart.length) {
        sidoIds.forEach(function (ids, sido) {
          if (ids === null) return;
          var run = mainRunBetween(ix.mainStart[main], ix.mainStart[main + 1], sido * ID_LIMIT + ids[0],
                                   sido * ID_LIMIT + ids[1]);
          if (run[0] >= run[1]) return;
          sidos++;
          if (runs.length && runs[runs.length - 1] === run[0]) runs[runs.length - 1] = run[1];
          else runs.push(run[0], run[1]);
        });
      }
      consider({cost: runsCost("main", runsOf(runs)), ordered: sidos <= 1,  // each sido's rows are in id order
                parts: function () { return [new PlanPart("main", runs)]; }});
    });
    this.words.forEach(function (word) {
      if (!word.dongList.length) return;
      var otherwise = function (e) {
        var road = ix.entryRoad[e];
        return (word.sigungu !== null && word.sigungu[ix.entrySigungu[e]] === 1) || road === word.roadEq
          || prefixState(word, road) !== NONE;
      };
      var otherwiseCost = entriesCost(otherwise);
      [["dong", dongRuns(word.dongList)], ["ri", riRuns(word.dongList)]].forEach(function (option) {
        if (option[1] === null) return;
        consider({cost: runsCost(option[0], runsOf(option[1])) + otherwiseCost, ordered: false,
                  parts: function () {
                    return [new PlanPart(option[0], option[1]),
                            new PlanPart("road", entryRuns(entries.filter(otherwise)), word.dongFlags)];
                  }});
      });
    });
    return {ordered: best.ordered, parts: best.parts()};
  };

  // Adds the rows of a plan part to `found`. With `candidatesOnly`, a row counts only if its entry
  // was a candidate of this search; otherwise its entry is judged here.
  Search.prototype.scan = async function (part, found, candidatesOnly) {
    var ix = IX, runs = part.runs, skip = part.skipDongs, self = this, r = 0, position = 0;
    await visitShards(part.copy, part.shards(), function (shard) {
      // The memo, the flags and the scratch arrays now serve a newer search, whose answer is shown.
      if (self.stamp !== Search.count) throw new Error("검색이 새 검색으로 바뀌었습니다.");
      var end = shard.first + shard.rows;
      while (r < runs.length) {
        var from = Math.max(position, runs[r]);
        if (from >= end) break;
        var to = Math.min(runs[r + 1], end);
        for (var at = from - shard.first, stop = to - shard.first; at < stop; at++) {
          var entry = shard.entry[at];
          if (ix.memoStamp[entry] !== self.stamp) {
            if (candidatesOnly) continue;
            self.entryState(entry);
          }
          if (ix.memoBase[entry] === NONE || (skip !== null && skip[ix.pairDong[shard.pair[at]]])) continue;
          found.add(entry, shard.id === null ? shard.first + at : shard.id[at], shard.main[at], shard.sub[at],
                    shard.pair[at]);
        }
        position = to;
        if (to < runs[r + 1]) break;
        r += 2;
      }
    });
  };

  // The rows of one zip (runs of the dong copy), plus the few addresses whose building number has 5 digits.
  Search.prototype.scanZip = async function (five, limit) {
    var ix = IX, found = new RowMatches(this, true, limit), self = this;
    if (five.zip >= 0) {
      var pairs = Array.from(ix.zipPairs.subarray(ix.zipPairStart[five.zip], ix.zipPairStart[five.zip + 1]));
      var runs = mergedRuns(pairs.map(function (p) { return [ix.pairStart[p], ix.pairStart[p + 1]]; }));
      await this.scan(new PlanPart("dong", runs), found, false);
    }
    ix.bigMains.forEach(function (row) {  // [id, main, sub, pair]; rows of this zip are in already
      if (row[1] === five.main && ix.pairZip[row[3]] !== five.zip) {
        var entry = entryOfId(row[0]);
        if (self.entryState(entry) !== NONE) found.add(entry, row[0], row[1], row[2], row[3]);
      }
    });
    return found;
  };

  // Matching rows, counted; of each group (0 exact, 1 the rest) only the first `limit` by id are
  // kept, with their fields: a page never shows more. `unordered` when rows come in another order
  // than by id: a group is then cut back to its `limit` smallest ids whenever it doubles.
  function RowMatches(search, unordered, limit) {
    this.search = search;
    this.unordered = unordered;
    this.limit = limit;
    this.groups = [0, 1].map(function () { return {count: 0, id: [], main: [], sub: [], pair: []}; });
    this.total = 0;
    this.addresses = [];
  }
  RowMatches.prototype.add = function (entry, id, main, sub, pair) {
    if (isRemoved(id)) return;
    var state = this.search.rowState(entry, id, main, sub, pair);
    if (state === NONE) return;
    var group = this.groups[state === EXACT ? 0 : 1];
    group.count++;
    if (group.id.length >= this.limit) {
      if (!this.unordered) return;
      if (group.id.length >= 2 * this.limit + 1024) keepSmallest(group, this.limit);
    }
    group.id.push(id);
    group.main.push(main);
    group.sub.push(sub);
    group.pair.push(pair);
  };
  // Ids are below ID_LIMIT (2**23) and a group holds fewer than 2**30 rows: id * 2**30 + position
  // is an exact double, and a typed array sorts those natively.
  var POSITION_BITS = 1073741824;
  function keepSmallest(group, limit) {
    var ids = group.id, keys = new Float64Array(ids.length);
    for (var i = 0; i < ids.length; i++) keys[i] = ids[i] * POSITION_BITS + i;
    keys.sort();
    ["id", "main", "sub", "pair"].forEach(function (field) {
      var values = group[field], kept = [];
      for (var k = 0; k < keys.length && k < limit; k++) kept.push(values[keys[k] % POSITION_BITS]);
      group[field] = kept;
    });
  }
  RowMatches.prototype.finish = function (start, end) {
    var groups = this.groups, limit = this.limit;
    if (this.unordered) groups.forEach(function (group) { keepSmallest(group, limit); });
    this.total = groups[0].count + groups[1].count;
    for (var p = start; p < end && p < this.total; p++) {
      var group = groups[p < groups[0].count ? 0 : 1], i = p < groups[0].count ? p : p - groups[0].count;
      this.addresses.push(addressOf(group.id[i], group.main[i], group.sub[i], group.pair[i]));
    }
    return this;
  };
  RowMatches.prototype.groupIds = function () {
    var limit = this.limit, unordered = this.unordered;
    return this.groups.map(function (group) {
      if (unordered) keepSmallest(group, limit);
      return {count: group.count, ids: group.id};
    });
  };
  RowMatches.prototype.page = async function () {
    return this.addresses;
  };

  // Matches decided per entry: every row of each entry (exact entries first), counted without
  // loading rows; the ids at positions [start, end) are picked at once (`entries` is scratch).
  function EntryMatches(entries, start, end, raw) {
    var ix = IX, base = ix.memoBase;
    this.total = 0;
    this.ids = [];
    this.groups = [];
    for (var group = 0; group < 2; group++) {
      if (raw) {
        this.groups.push({count: 0, ids: this.ids = []});
        this.total = 0;
      }
      for (var k = 0; k < entries.length; k++) {
        var e = entries[k];
        if ((base[e] === EXACT) !== (group === 0)) continue;
        var first = ix.entryStart[e], count = ix.entryStart[e + 1] - first - removedBetween(first, ix.entryStart[e + 1]);
        for (var p = Math.max(start, this.total); p < end && p < this.total + count; p++) {
          this.ids.push(keptId(first, p - this.total));
        }
        this.total += count;
      }
      if (raw) this.groups[group].count = this.total;
    }
  }
  EntryMatches.prototype.groupIds = function () {
    return this.groups;
  };
  EntryMatches.prototype.page = async function () {
    var ids = this.ids;
    new Set(ids.map(function (id) { return Math.floor(id / IX.shardRows); })).forEach(function (number) {
      requestShard("road", number);
    });
    var out = [];
    for (var j = 0; j < ids.length; j++) out.push(await addressById(ids[j]));
    return out;
  };

  async function addressById(id) {
    var number = Math.floor(id / IX.shardRows);
    var shard = cachedShard("road", number) || await shardOf("road", number);
    var at = id - shard.first;
    var address = addressOf(id, shard.main[at], shard.sub[at], shard.pair[at]);
    if (IX.official) await addOfficialFields(address, id, shard.lot[at], shard.lotSub[at], shard.pair[at]);
    return address;
  }

  // What the official file adds: the lot, the building name and the 법정동코드; 지하 in the road address.
  async function addOfficialFields(address, id, lot, lotSub, pair) {
    var ix = IX, entry = entryOfId(id), dong = ix.pairDong[pair], sigungu = ix.entrySigungu[entry];
    var lotNumber = (lot & ~MOUNTAIN_BIT) + (lotSub ? "-" + lotSub : "");
    address.jibun_address = joinWords([address.sido, address.sigungu, address.eupmyeondong,
                                       (lot & MOUNTAIN_BIT ? "산 " : "") + lotNumber], " ");
    address.building = await buildingName(id);
    if (underKind(id) === 1) {
      var words = address.road_address.split(" ");
      words.splice(words.length - 1, 0, "지하");
      address.road_address = words.join(" ");
    }
    var key = sigungu * 65536 + dong, codes = ix.codeKeys;
    var at = lowerBound(codes.length, function (k) { return codes[k]; }, key);
    address.admin_code = at < codes.length && codes[at] === key
      ? String(ix.codeHigh[at]).padStart(5, "0") + String(ix.codeLow[at]).padStart(5, "0") : null;
  }

  function addressOf(id, main, sub, pair) {
    var ix = IX, dong = ix.pairDong[pair];
    var entry = entryOfId(id);
    var sigungu = ix.sigungu[ix.entrySigungu[entry]];
    var sido = ix.sido[sigungu[0]];
    var road = ix.entryRoad[entry];
    var dongName = ix.dongs.get(dong);
    var eupmyeon = dongName.indexOf(" ") >= 0 ? dongName.split(" ")[0] : "";
    var number = sub ? main + "-" + sub : String(main);
    var known = ix.landmarks.get(id);
    return {
      id: ix.idPrefix + id.toString(36),
      road_address: joinWords([sido[0], sigungu[1], eupmyeon, ix.roads.get(road), number], " "),
      jibun_address: known ? known.jibun_address : "",
      english_address: joinWords([number + " " + ix.roadsEnglish.get(road), ix.dongEnglish.get(dong),
                                  sigungu[2], sido[1]], ", "),
      zip: zipText(ix.pairZip[pair]),
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

  // The index an id names (BASE or CHANGES) and its number there, or null: an id of another
  // build, or of a row the changes replaced or removed.
  function idNumber(id) {
    var found = null;
    [BASE, CHANGES].forEach(function (ix) {
      if (ix === null) return;
      var prefix = ix.idPrefix, digits = id.slice(prefix.length);
      if (id.slice(0, prefix.length) !== prefix || !/^[0-9a-z]{1,5}$/.test(digits)) return;
      var number = parseInt(digits, 36);
      if (prefix + number.toString(36) !== id || number >= ix.records || isRemoved(number, ix)) return;
      found = {ix: ix, number: number};
    });
    return found;
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
  // latencyMs. The work returns {status, nodes() -> the box's new content, total?, message?}; a
  // newer query in the same box discards it. The previous content stays, under a hint, until then.
  function startRequest(box, echo, work) {
    if (box.pendingTimer) clearTimeout(box.pendingTimer);
    var seq = ++sequence;
    root.dataset.pendingSeq = String(seq);
    box.dataset.seq = String(seq);
    box.dataset.status = "loading";
    Object.keys(echo).forEach(function (key) { box.dataset[key] = echo[key]; });
    ["total", "elapsedMs", "totalMs", "shardsLoaded", "message"].forEach(function (key) { delete box.dataset[key]; });
    box.setAttribute("aria-busy", "true");
    if (!box.loadingHint) box.loadingHint = element("p", {"class": "hint loading", text: "불러오는 중…"});
    if (box.firstChild !== box.loadingHint) box.prepend(box.loadingHint);
    var startMark = "searchaddr-start-" + seq;
    performance.mark(startMark);
    if (latencyMs === 0) {  // no timer: even a 0 ms one waits for the next task
      queueMicrotask(function () { finishRequest(box, seq, work, startMark); });
      return;
    }
    box.pendingTimer = setTimeout(function () {
      box.pendingTimer = null;
      finishRequest(box, seq, work, startMark);
    }, latencyMs);
  }

  // One query's work at a time: a search reads BASE, then CHANGES, through the one IX.
  var working = Promise.resolve();
  function oneAtATime(work) {
    var run = working.then(work);
    working = run.catch(function () {});
    return run;
  }

  async function finishRequest(box, seq, work, startMark) {
    var workMark = "searchaddr-work-" + seq;
    var endMark = "searchaddr-end-" + seq;
    performance.mark(workMark);
    var shardsBefore = shardsRequested;
    var view;
    try {
      view = await oneAtATime(work);
    } catch (error) {
      var message = String(error && error.message || error);
      view = {status: "error", message: message,
              nodes: function () { return [element("p", {"class": "error", text: message})]; }};
    }
    if (box.dataset.seq !== String(seq)) {  // a newer query owns the box now
      [startMark, workMark].forEach(function (m) { performance.clearMarks(m); });
      return;
    }
    box.loadingHint.remove();
    showNodes(box, view.nodes());
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

  // Makes `nodes` the box's children, moving none that is already in its place.
  function showNodes(box, nodes) {
    var children = box.children;
    var same = children.length === nodes.length && nodes.every(function (node, i) { return children[i] === node; });
    if (!same) box.replaceChildren.apply(box, nodes);
  }

  function setText(textNode, value) {
    if (textNode.data !== value) textNode.data = value;
  }

  // The results box's nodes, made once and refilled by every search (a query then leaves next to
  // no DOM for the collector); rows beyond a page are taken out and kept for the next.
  var resultsView = null;

  function resultsNodes() {
    if (resultsView !== null) return resultsView;
    var view = {query: document.createTextNode(""), total: document.createTextNode(""),
                pages: document.createTextNode(""), emptyText: document.createTextNode(""),
                rows: [], page: 1, buttons: []};
    view.summary = element("p", {"class": "summary"}, [element("span", {}, [view.query]),
      element("strong", {"class": "total"}, [view.total]), element("span", {}, [view.pages])]);
    view.empty = element("p", {"class": "empty"}, [view.emptyText]);
    view.body = element("tbody");
    var head = element("thead", {}, [element("tr", {}, ["우편번호", "주소", "건물명", "지역", ""]
      .map(function (label) { return element("th", {text: label}); }))]);
    view.table = element("table", {"class": "results-table"}, [head, view.body]);
    view.pager = element("nav", {"class": "pager", "aria-label": "페이지"});
    [["이전", -1], ["다음", 1]].forEach(function (item) {
      var button = element("button", {"type": "button", text: item[0]});
      button.addEventListener("click", function () {
        searchForm.elements.page.value = String(view.page + item[1]);
        searchForm.requestSubmit();
      });
      view.pager.appendChild(button);
      view.buttons.push(button);
    });
    return (resultsView = view);
  }

  function resultRow(view, index) {
    while (view.rows.length <= index) {
      var fields = {};
      var field = function (tag, name) {  // its one text node stays and is refilled
        fields[name] = document.createTextNode("");
        return element(tag, {"data-field": name, "class": name}, [fields[name]]);
      };
      var link = element("a", {"href": "#", "class": "detail-link", text: "상세"});
      var tr = element("tr", {"class": "address"}, [
        element("td", {"class": "col-zip"}, [field("span", "zip")]),
        element("td", {"class": "col-address"}, [
          field("div", "road_address"),
          element("div", {"class": "jibun"}, [element("span", {"class": "tag", text: "지번"}),
                                              field("span", "jibun_address")]),
          field("div", "english_address")
        ]),
        element("td", {"class": "col-building"}, [field("span", "building")]),
        element("td", {"class": "col-region"}, [
          field("span", "sido"), document.createTextNode(" "),
          field("span", "sigungu"), document.createTextNode(" "),
          field("span", "eupmyeondong")
        ]),
        element("td", {"class": "col-link"}, [link])
      ]);
      view.rows.push({tr: tr, fields: fields, link: link});
    }
    return view.rows[index];
  }

  async function searchView(query, page, perPage) {
    if (page === null) throw new Error("페이지는 1 이상의 정수여야 합니다.");
    if (perPage === null) throw new Error("페이지당 개수는 1부터 " + MAX_PER_PAGE + "까지입니다.");
    if (!query.trim()) throw new Error("검색어를 입력하세요.");
    var matches = await searchBoth(parseQuery(query), (page - 1) * perPage, page * perPage);
    var addresses = await matches.page();
    var pages = Math.max(1, Math.ceil(matches.total / perPage));
    return {status: "ok", total: matches.total, nodes: function () {
      var view = resultsNodes();
      setText(view.query, "“" + query.trim() + "” 검색 결과 ");
      setText(view.total, TOTAL_FORMAT.format(matches.total));
      setText(view.pages, "건 · " + page + " / " + pages + " 페이지");
      view.page = page;
      view.buttons[0].disabled = page - 1 < 1 || page - 1 > pages;
      view.buttons[1].disabled = page + 1 < 1 || page + 1 > pages;
      if (!addresses.length) {
        setText(view.emptyText, matches.total ? "이 페이지에는 결과가 없습니다." : "검색 결과가 없습니다.");
        return [view.summary, view.empty, view.pager];
      }
      addresses.forEach(function (address, i) {
        var row = resultRow(view, i);
        if (row.tr.dataset.id !== address.id) {
          row.tr.dataset.id = address.id;
          row.link.setAttribute("href", "#id=" + address.id);
        }
        ADDRESS_FIELDS.forEach(function (name) { setText(row.fields[name], address[name]); });
      });
      while (view.body.children.length > addresses.length) view.body.lastChild.remove();
      for (var i = view.body.children.length; i < addresses.length; i++) view.body.appendChild(view.rows[i].tr);
      return [view.summary, view.table, view.pager];
    }};
  }

  async function detailView(id) {
    var named = idNumber(id);
    if (named === null) {
      return {status: "not-found", nodes: function () {
        return [element("p", {"class": "empty", text: "주소를 찾을 수 없습니다 (not found)."})];
      }};
    }
    IX = named.ix;
    try {
      var address = await addressById(named.number);
    } finally {
      IX = BASE;
    }
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
    var title = element("h2", {text: address.building || address.road_address});
    return {status: "ok", nodes: function () { return [title, list]; }};
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

  // The page's own words follow its data: the official file also finds lots and building names.
  function describeOfficialData() {
    document.getElementById("lede").textContent = "도로명과 건물번호, 지번(읍면동·리와 번지), 건물명, 우편번호, "
      + "시도·시군구·읍면동, 영문 도로명으로 검색합니다. 여러 단어는 모두 맞는 주소만 찾습니다.";
    searchForm.elements.q.placeholder = "예: 세종대로 110 · 반곡동 47-1 · 수루배마을 · 04524";
    document.getElementById("data-note").textContent = "주소 데이터: 행정안전부 도로명주소 한글 "
      + "(business.juso.go.kr, 기준일 " + (changesDate || BASE.baseDate) + "). 좌표는 없습니다.";
  }

  // data/index.js runs right after this script; by DOMContentLoaded it has registered the index.
  document.addEventListener("DOMContentLoaded", function () {
    if (BASE !== null && BASE.records > 0) {
      root.dataset.records = String(liveRecords());
      root.dataset.indexMs = IX.decodeMs.toFixed(1);
      root.dataset.searchaddr = "ready";
      if (BASE.official) describeOfficialData();
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
