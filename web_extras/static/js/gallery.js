// The current page's gallery: the latest photos and videos of the shown fermenter.
//
// Ids and times come from the device: they reach the page as text and attribute
// values only (never as HTML), and each file's URL is built here from the device
// and media ids, not taken from the answer. Only MP4, the type BeerPi records,
// gets a player; anything else is a plain link.

import { deviceUrl } from "./api.js";
import { formatTime } from "./format.js";

const $ = window.jQuery;

export const GALLERY_SIZE = 12;
const PLAYABLE = new Set(["video/mp4"]);

// The service's URL of a photo or video, relative to the page.
export function mediaUrl(deviceId, item) {
  return deviceUrl(deviceId, `/media/${encodeURIComponent(item.id)}`);
}

function caption(item) {
  const what = item.kind === "video" ? "Video" : "Photo";
  const size = item.kind === "video" && item.size ? ` · ${(item.size / 1e6).toFixed(1)} MB` : "";
  return `${what} · ${formatTime(item.timestamp)}${size}`;
}

function tile(deviceId, item) {
  const url = mediaUrl(deviceId, item);
  const $figure = $("<figure>").attr({ "data-kind": item.kind });
  if (item.kind === "video" && PLAYABLE.has(item.content_type)) {
    $figure.append($("<video>")
      .attr({ src: url, controls: "", preload: "metadata", playsinline: "" })
      .attr("aria-label", `Video recorded ${formatTime(item.timestamp)}`));
  } else if (item.kind === "photo") {
    $figure.append($("<a>").attr({ href: url, target: "_blank", rel: "noopener" })
      .append($("<img>").attr({ src: url, alt: `Photo taken ${formatTime(item.timestamp)}`, loading: "lazy" })));
  } else {
    $figure.append($("<a>").attr({ href: url, download: "" }).text("Download"));
  }
  $figure.append($("<figcaption>").text(caption(item)));
  return $("<li>").attr("data-media-id", item.id).data("mediaId", item.id).append($figure);
}

// Show `media` (newest first) for `deviceId`; null clears the gallery. Tiles that
// stay are kept as they are, so a video being watched goes on playing when a
// new photo arrives.
export function renderGallery(deviceId, media) {
  const $list = $("#gallery");
  const items = deviceId ? (media || []).filter((item) => item && item.id).slice(0, GALLERY_SIZE) : [];
  const existing = new Map();
  $list.children().each(function remember() {
    existing.set($(this).data("mediaId"), $(this));
  });
  const wanted = new Set(items.map((item) => item.id));
  for (const [id, $item] of existing) {
    if (!wanted.has(id)) $item.remove();
  }
  for (const item of items) {
    $list.append(existing.get(item.id) || tile(deviceId, item));
  }
  $("#gallery-empty").prop("hidden", items.length > 0);
}
