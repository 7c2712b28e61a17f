// Hallway web page behaviour. Vanilla JS, no build step. User text is only ever
// placed with textContent / createTextNode (never innerHTML), so it cannot inject markup.
"use strict";

(function () {
  const me = document.body.dataset.me || null;
  const statusEl = document.getElementById("status");

  let sayTimer = null;
  function say(message) {
    if (!statusEl) return;
    statusEl.textContent = message;
    clearTimeout(sayTimer);
    sayTimer = setTimeout(() => { statusEl.textContent = ""; }, 5000);
  }

  // A message that survives the reload an action ends with (shown on the next page).
  const FLASH = "hallway-flash";
  function flash(message) {
    try { sessionStorage.setItem(FLASH, message); } catch (_) { /* storage off */ }
  }
  try {
    const pending = sessionStorage.getItem(FLASH);
    if (pending) {
      sessionStorage.removeItem(FLASH);
      say(pending);
    }
  } catch (_) { /* storage off */ }

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children || []) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  async function api(method, url, body, headers) {
    const init = { method, credentials: "same-origin", headers: Object.assign({ Accept: "application/json" }, headers || {}) };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const resp = await fetch(url, init);
    if (resp.status === 401) {
      window.location.assign("/ui/login");
      throw new Error("signed out");
    }
    if (!resp.ok) {
      let detail = resp.statusText;
      try { detail = (await resp.json()).detail || detail; } catch (_) { /* not JSON */ }
      throw new Error(detail);
    }
    return resp.status === 204 ? null : resp.json();
  }

  // Times: ISO in the datetime attribute, a short local form as text.
  function formatTime(node) {
    const when = new Date(node.getAttribute("datetime"));
    if (!isNaN(when)) {
      node.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      node.title = when.toISOString();
    }
  }

  // Same structure as the post macro in templates/_macros.html.
  const TOKENS = /(@[a-z0-9][a-z0-9._-]{0,30}[a-z0-9]|#[\w-]{1,100})/i;  // "@ada." ends a sentence
  function postText(text) {
    const p = el("p", { class: "post-text", dir: "auto" });  // isolate bidi text
    text.split(TOKENS).forEach((part, i) => {
      if (!part) return;
      if (i % 2 === 0) p.append(document.createTextNode(part));
      else if (part[0] === "@") p.append(el("a", { href: "/u/" + encodeURIComponent(part.slice(1).toLowerCase()), text: part }));
      else p.append(el("a", { href: "/search?q=" + encodeURIComponent(part), text: part }));
    });
    return p;
  }

  function renderPost(post) {
    const author = post.author || {};
    const head = el("header", { class: "post-head" }, [
      el("a", { class: "author", href: "/u/" + encodeURIComponent(author.handle || post.author_id) }, [
        el("bdi", { text: author.display_name || post.author_id }),
      ]),
    ]);
    if (author.handle) head.append(" ", el("span", { class: "handle", text: "@" + author.handle }));
    if (post.created_at) {
      const t = el("time", { datetime: post.created_at, text: post.created_at });
      formatTime(t);
      head.append(" ", t);
    }
    // Posts from a community link to it, except in that community's own feed.
    const feed = document.querySelector("[data-community-feed]");
    if (post.community_id && !(feed && feed.dataset.communityFeed === post.community_id)) {
      const known = document.querySelector('[data-community-link="' + CSS.escape(post.community_id) + '"]');
      head.append(" ", el("span", { class: "in-community" }, [
        "in ",
        el("a", { href: "/c/" + encodeURIComponent(post.community_id), "data-community-link": post.community_id }, [
          el("bdi", { text: known ? known.textContent : "a community" }),
        ]),
      ]));
    }
    const article = el("article", { class: "post", "data-post-id": post.id }, [head, postText(post.text)]);
    if (me && post.author_id === me) {
      article.append(el("button", { type: "button", class: "link danger", "data-delete-post": post.id }, [
        "Delete", el("span", { class: "sr-only", text: " this post" }),
      ]));
    }
    return article;
  }

  document.querySelectorAll("time[datetime]").forEach(formatTime);

  // Compose: character counter and posting with an idempotency key per attempt.
  const compose = document.querySelector("[data-compose]");
  if (compose) {
    const textarea = compose.querySelector("textarea");
    const counter = compose.querySelector("[data-counter]");
    const max = Number(counter.dataset.max);
    let key = null;
    const update = () => {
      const n = Array.from(textarea.value).length;  // code points, like the server
      counter.textContent = n + " / " + max;
      counter.classList.toggle("over", n > max);
    };
    textarea.addEventListener("input", () => { key = null; update(); });
    compose.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = textarea.value;
      if (!text.trim()) return;
      key = key || (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
      const button = compose.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const body = { text };
        if (compose.dataset.community) body.community_id = compose.dataset.community;
        const post = await api("POST", "/api/v1/posts", body, { "Idempotency-Key": key });
        const feed = document.querySelector("[data-feed]");
        const empty = feed.querySelector("[data-empty]");
        if (empty) empty.remove();
        feed.prepend(renderPost(post));
        textarea.value = "";
        key = null;
        update();
        say("Posted.");
      } catch (err) {
        say("Could not post: " + err.message);
      } finally {
        button.disabled = false;
      }
    });
    update();
  }

  // After an action: reload (the server draws the new state), or go to a page.
  function afterAction(node, result, message) {
    const then = node.dataset.then || "reload";
    if (message) flash(message);
    if (then === "reload") window.location.reload();
    else if (then === "community" && result && result.id) window.location.assign("/c/" + encodeURIComponent(result.id));
    else window.location.assign(then);
  }

  // Forms that call the API: <form data-api-form data-method data-url [data-then] [data-done]>.
  // Every named field goes into the JSON body; a [data-handle] field loses a leading "@".
  document.addEventListener("submit", async (event) => {
    const form = event.target.closest("form[data-api-form]");
    if (!form) return;
    event.preventDefault();
    const body = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled) continue;
      let value = field.value;
      if (field.hasAttribute("data-handle")) value = value.trim().replace(/^@/, "");
      body[field.name] = value;
    }
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const result = await api(form.dataset.method || "POST", form.dataset.url, body);
      afterAction(form, result, form.dataset.done);
    } catch (err) {
      say("Could not save: " + err.message);
      if (button) button.disabled = false;
    }
  });

  document.addEventListener("change", (event) => {
    if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
  });

  document.addEventListener("click", async (event) => {
    const target = event.target.closest("button, a");
    if (!target) return;

    // Buttons that call the API: data-api (method), data-url, optional data-person
    // ({person_id}) or data-role ({role}) for the body, data-confirm, data-done, data-then.
    if (target.dataset.api) {
      if (target.dataset.confirm && !window.confirm(target.dataset.confirm)) return;
      let body;
      if (target.dataset.person) body = { person_id: target.dataset.person };
      else if (target.dataset.role) body = { role: target.dataset.role };
      target.disabled = true;
      try {
        const result = await api(target.dataset.api, target.dataset.url, body);
        afterAction(target, result, target.dataset.done);
      } catch (err) {
        say("Could not do that: " + err.message);
        target.disabled = false;
      }
      return;
    }

    if (target.dataset.deletePost) {
      if (!window.confirm("Delete this post?")) return;
      try {
        await api("DELETE", "/api/v1/posts/" + encodeURIComponent(target.dataset.deletePost));
        target.closest("article").remove();
        say("Post deleted.");
      } catch (err) {
        say("Could not delete: " + err.message);
      }
      return;
    }

    if (target.dataset.follow) {
      const following = target.getAttribute("aria-pressed") === "true";
      target.disabled = true;
      try {
        await api(following ? "DELETE" : "POST", "/api/v1/people/" + encodeURIComponent(target.dataset.follow) + "/follow");
        target.setAttribute("aria-pressed", following ? "false" : "true");
        target.textContent = following ? "Follow" : "Following";
        say((following ? "Unfollowed " : "Following ") + (target.dataset.name || ""));
      } catch (err) {
        say("Could not change follow: " + err.message);
      } finally {
        target.disabled = false;
      }
      return;
    }

    if (target.dataset.more) {
      event.preventDefault();
      const url = target.dataset.more + "?cursor=" + encodeURIComponent(target.dataset.cursor);
      try {
        const page = await api("GET", url);
        const feed = document.querySelector("[data-feed]");
        page.items.forEach((post) => feed.append(renderPost(post)));
        if (page.next_cursor) {
          target.dataset.cursor = page.next_cursor;
          target.href = "?cursor=" + encodeURIComponent(page.next_cursor);
        } else {
          target.parentElement.remove();
        }
      } catch (err) {
        say("Could not load more: " + err.message);
      }
      return;
    }

    if (target.hasAttribute("data-mark-all-read")) {
      try {
        const result = await api("POST", "/api/v1/notifications/read", { all: true });
        document.querySelectorAll(".notification.unread").forEach((n) => n.classList.remove("unread"));
        setUnread(result.unread_count);
        target.disabled = true;
        say("All notifications marked as read.");
      } catch (err) {
        say("Could not mark as read: " + err.message);
      }
    }
  });

  // Live unread badge (and list, on the notifications page) from the SSE stream.
  const badge = document.getElementById("unread-badge");
  function setUnread(count) {
    if (!badge) return;
    badge.querySelector("[data-count]").textContent = count > 99 ? "99+" : String(count);
    badge.hidden = count <= 0;
  }

  function renderNotification(n) {
    const actor = n.actor || {};
    const verb = n.kind === "mention" ? " mentioned you " : n.kind === "new_follower" ? " started following you " : " ";
    const li = el("li", { class: "card notification" + (n.read ? "" : " unread") }, [
      el("a", { href: "/u/" + encodeURIComponent(actor.handle || n.actor_id) }, [el("bdi", { text: actor.display_name || n.actor_id })]),
      verb,
    ]);
    if (n.created_at) {
      const t = el("time", { datetime: n.created_at, text: n.created_at });
      formatTime(t);
      li.append(t);
    }
    if (n.snippet) li.append(el("p", { class: "snippet", dir: "auto", text: n.snippet }));
    return li;
  }

  if (me && badge && window.EventSource) {
    const source = new EventSource("/api/v1/notifications/stream");
    source.addEventListener("unread", (e) => setUnread(JSON.parse(e.data).unread_count));
    source.addEventListener("notification", (e) => {
      const data = JSON.parse(e.data);
      setUnread(data.unread_count);
      const list = document.querySelector("[data-notifications]");
      if (list) {
        const empty = list.querySelector("[data-empty]");
        if (empty) empty.remove();
        list.prepend(renderNotification(data.notification));
        const markAll = document.querySelector("[data-mark-all-read]");
        if (markAll) markAll.disabled = false;
      }
    });
  }
})();
