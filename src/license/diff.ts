/**
 * Edit distance between two token sequences the way diff-match-patch measures it: the
 * diff (common prefix/suffix trimming, containment and half-match shortcuts, Myers'
 * middle-snake bisection, then the merge clean-up), and its Levenshtein count (per run of
 * edits between equalities, the larger of insertions and deletions).
 *
 * Sequences are strings with one UTF-16 code unit a token, so slicing and searching are
 * native string operations.
 *
 * @module
 */

const EQUAL = 0;
const INSERT = 1;
const DELETE = -1;
type Op = typeof EQUAL | typeof INSERT | typeof DELETE;
type Edit = [Op, string];

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function commonSuffix(a: string, b: string): number {
  let n = 0;
  let i = a.length - 1;
  let j = b.length - 1;
  while (i >= 0 && j >= 0 && a.charCodeAt(i) === b.charCodeAt(j)) {
    n++;
    i--;
    j--;
  }
  return n;
}

function diffMain(text1: string, text2: string): Edit[] {
  if (text1 === text2) return text1.length > 0 ? [[EQUAL, text1]] : [];
  let n = commonPrefix(text1, text2);
  const prefix = text1.slice(0, n);
  text1 = text1.slice(n);
  text2 = text2.slice(n);
  n = commonSuffix(text1, text2);
  const suffix = text1.slice(text1.length - n);
  text1 = text1.slice(0, text1.length - n);
  text2 = text2.slice(0, text2.length - n);
  const diffs = diffCompute(text1, text2);
  if (prefix.length > 0) diffs.unshift([EQUAL, prefix]);
  if (suffix.length > 0) diffs.push([EQUAL, suffix]);
  return cleanupMerge(diffs);
}

function diffCompute(text1: string, text2: string): Edit[] {
  if (text1.length === 0) return [[INSERT, text2]];
  if (text2.length === 0) return [[DELETE, text1]];
  const long = text1.length > text2.length ? text1 : text2;
  const short = text1.length > text2.length ? text2 : text1;
  const at = long.indexOf(short);
  if (at !== -1) {
    const op = text1.length > text2.length ? DELETE : INSERT;
    return [[op, long.slice(0, at)], [EQUAL, short], [op, long.slice(at + short.length)]];
  }
  if (short.length === 1) return [[DELETE, text1], [INSERT, text2]];
  const half = halfMatch(text1, text2);
  if (half) {
    const [a1, b1, a2, b2, common] = half;
    return [...diffMain(a1, a2), [EQUAL, common], ...diffMain(b1, b2)];
  }
  return bisect(text1, text2);
}

/** [long prefix, long suffix, short prefix, short suffix, common] around a seed at `i`. */
function halfMatchAt(long: string, short: string, i: number): string[] | null {
  const seed = long.slice(i, i + Math.trunc(long.length / 4));
  let best: string[] | null = null;
  let bestLength = 0;
  for (let j = short.indexOf(seed); j !== -1; j = nextIndex(short, seed, j + 1)) {
    const pre = commonPrefix(long.slice(i), short.slice(j));
    const suf = commonSuffix(long.slice(0, i), short.slice(0, j));
    if (bestLength < suf + pre) {
      bestLength = suf + pre;
      best = [
        long.slice(0, i - suf),
        long.slice(i + pre),
        short.slice(0, j - suf),
        short.slice(j + pre),
        short.slice(j - suf, j + pre),
      ];
    }
  }
  return best && bestLength * 2 >= long.length ? best : null;
}

function nextIndex(text: string, pattern: string, from: number): number {
  return from > text.length - 1 ? -1 : text.indexOf(pattern, from);
}

function halfMatch(text1: string, text2: string): string[] | null {
  const long = text1.length > text2.length ? text1 : text2;
  const short = text1.length > text2.length ? text2 : text1;
  if (long.length < 4 || short.length * 2 < long.length) return null;
  const hm1 = halfMatchAt(long, short, Math.trunc((long.length + 3) / 4));
  const hm2 = halfMatchAt(long, short, Math.trunc((long.length + 1) / 2));
  let hm: string[];
  if (!hm1 && !hm2) return null;
  else if (!hm2) hm = hm1!;
  else if (!hm1) hm = hm2;
  else hm = hm1[4].length > hm2[4].length ? hm1 : hm2;
  if (text1.length > text2.length) return hm;
  return [hm[2], hm[3], hm[0], hm[1], hm[4]];
}

function bisect(text1: string, text2: string): Edit[] {
  const len1 = text1.length;
  const len2 = text2.length;
  const maxD = Math.trunc((len1 + len2 + 1) / 2);
  const vOffset = maxD;
  const vLength = 2 * maxD;
  const v1 = new Int32Array(vLength).fill(-1);
  const v2 = new Int32Array(vLength).fill(-1);
  v1[vOffset + 1] = 0;
  v2[vOffset + 1] = 0;
  const delta = len1 - len2;
  const front = delta % 2 !== 0;
  let k1start = 0;
  let k1end = 0;
  let k2start = 0;
  let k2end = 0;
  for (let d = 0; d < maxD; d++) {
    for (let k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
      const k1Offset = vOffset + k1;
      let x1 = k1 === -d || (k1 !== d && v1[k1Offset - 1] < v1[k1Offset + 1])
        ? v1[k1Offset + 1]
        : v1[k1Offset - 1] + 1;
      let y1 = x1 - k1;
      while (x1 < len1 && y1 < len2 && text1.charCodeAt(x1) === text2.charCodeAt(y1)) {
        x1++;
        y1++;
      }
      v1[k1Offset] = x1;
      if (x1 > len1) k1end += 2;
      else if (y1 > len2) k1start += 2;
      else if (front) {
        const k2Offset = vOffset + delta - k1;
        if (k2Offset >= 0 && k2Offset < vLength && v2[k2Offset] !== -1) {
          if (x1 >= len1 - v2[k2Offset]) return bisectSplit(text1, text2, x1, y1);
        }
      }
    }
    for (let k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
      const k2Offset = vOffset + k2;
      let x2 = k2 === -d || (k2 !== d && v2[k2Offset - 1] < v2[k2Offset + 1])
        ? v2[k2Offset + 1]
        : v2[k2Offset - 1] + 1;
      let y2 = x2 - k2;
      while (
        x2 < len1 && y2 < len2 &&
        text1.charCodeAt(len1 - x2 - 1) === text2.charCodeAt(len2 - y2 - 1)
      ) {
        x2++;
        y2++;
      }
      v2[k2Offset] = x2;
      if (x2 > len1) k2end += 2;
      else if (y2 > len2) k2start += 2;
      else if (!front) {
        const k1Offset = vOffset + delta - k2;
        if (k1Offset >= 0 && k1Offset < vLength && v1[k1Offset] !== -1) {
          const x1 = v1[k1Offset];
          const y1 = vOffset + x1 - k1Offset;
          if (x1 >= len1 - x2) return bisectSplit(text1, text2, x1, y1);
        }
      }
    }
  }
  return [[DELETE, text1], [INSERT, text2]];
}

function bisectSplit(text1: string, text2: string, x: number, y: number): Edit[] {
  return [
    ...diffMain(text1.slice(0, x), text2.slice(0, y)),
    ...diffMain(text1.slice(x), text2.slice(y)),
  ];
}

function cleanupMerge(input: Edit[]): Edit[] {
  const diffs: Edit[] = [...input, [EQUAL, ""]];
  let pointer = 0;
  let countDelete = 0;
  let countInsert = 0;
  let textDelete = "";
  let textInsert = "";
  while (pointer < diffs.length) {
    const op = diffs[pointer][0];
    if (op === INSERT) {
      countInsert++;
      textInsert += diffs[pointer][1];
      pointer++;
      continue;
    }
    if (op === DELETE) {
      countDelete++;
      textDelete += diffs[pointer][1];
      pointer++;
      continue;
    }
    if (countDelete + countInsert > 1) {
      if (countDelete !== 0 && countInsert !== 0) {
        let n = commonPrefix(textInsert, textDelete);
        if (n !== 0) {
          const x = pointer - countDelete - countInsert;
          if (x > 0 && diffs[x - 1][0] === EQUAL) diffs[x - 1][1] += textInsert.slice(0, n);
          else {
            diffs.unshift([EQUAL, textInsert.slice(0, n)]);
            pointer++;
          }
          textInsert = textInsert.slice(n);
          textDelete = textDelete.slice(n);
        }
        n = commonSuffix(textInsert, textDelete);
        if (n !== 0) {
          diffs[pointer][1] = textInsert.slice(textInsert.length - n) + diffs[pointer][1];
          textInsert = textInsert.slice(0, textInsert.length - n);
          textDelete = textDelete.slice(0, textDelete.length - n);
        }
      }
      const start = pointer - countDelete - countInsert;
      const merged: Edit[] = [];
      if (countDelete !== 0) merged.push([DELETE, textDelete]);
      if (countInsert !== 0) merged.push([INSERT, textInsert]);
      diffs.splice(start, countDelete + countInsert, ...merged);
      pointer = start + 1 + merged.length;
    } else if (pointer !== 0 && diffs[pointer - 1][0] === EQUAL) {
      diffs[pointer - 1][1] += diffs[pointer][1];
      diffs.splice(pointer, 1);
    } else {
      pointer++;
    }
    countInsert = 0;
    countDelete = 0;
    textDelete = "";
    textInsert = "";
  }
  if (diffs[diffs.length - 1][1].length === 0) diffs.pop();

  let changes = false;
  pointer = 1;
  while (pointer < diffs.length - 1) {
    const [prev, cur, next] = [diffs[pointer - 1], diffs[pointer], diffs[pointer + 1]];
    if (prev[0] === EQUAL && next[0] === EQUAL) {
      if (cur[1].endsWith(prev[1])) {
        cur[1] = prev[1] + cur[1].slice(0, cur[1].length - prev[1].length);
        next[1] = prev[1] + next[1];
        diffs.splice(pointer - 1, 1);
        changes = true;
      } else if (cur[1].startsWith(next[1])) {
        prev[1] += next[1];
        cur[1] = cur[1].slice(next[1].length) + next[1];
        diffs.splice(pointer + 1, 1);
        changes = true;
      }
    }
    pointer++;
  }
  return changes ? cleanupMerge(diffs) : diffs;
}

/** diff-match-patch's Levenshtein distance between two token sequences. */
export function tokenDistance(mine: string, yours: string): number {
  let distance = 0;
  let insertions = 0;
  let deletions = 0;
  for (const [op, text] of diffMain(mine, yours)) {
    if (op === INSERT) insertions += text.length;
    else if (op === DELETE) deletions += text.length;
    else {
      distance += Math.max(insertions, deletions);
      insertions = 0;
      deletions = 0;
    }
  }
  return distance + Math.max(insertions, deletions);
}
