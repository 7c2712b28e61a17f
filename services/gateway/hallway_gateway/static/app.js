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
      else {
        const topic = topicOf(part);
        p.append(el("a", { href: topic ? "/t/" + encodeURIComponent(topic) : "/search?q=" + encodeURIComponent(part), text: part }));
      }
    });
    return p;
  }

  // Like topic_of in web.py: a #tag is a topic when it is 1-64 letters, digits or _,
  // not only digits.
  function topicOf(tag) {
    const m = /^#([\p{L}\p{N}\p{M}_]{1,64})$/u.exec(tag);
    return m && !/^\d+$/.test(m[1]) ? m[1].toLowerCase() : "";
  }

  // Same as the REACTIONS list in web.py.
  const REACTIONS = [
    ["like", "Like", "\u{1F44D}"],
    ["celebrate", "Celebrate", "\u{1F389}"],
    ["insightful", "Insightful", "\u{1F4A1}"],
    ["support", "Support", "\u2764"],
    ["funny", "Funny", "\u{1F602}"],
  ];

  // The bar under a post: reactions, the comments toggle, delete for its author.
  function postFoot(post) {
    const counts = post.reaction_counts || {};
    const mine = post.my_reactions || [];
    const bar = el("div", { class: "reactions", role: "group", "aria-label": "Reactions" });
    for (const [kind, label, symbol] of REACTIONS) {
      bar.append(el("button", { type: "button", class: "reaction", "data-react": kind, "aria-pressed": mine.includes(kind) ? "true" : "false", title: label }, [
        el("span", { "aria-hidden": "true", text: symbol }),
        el("span", { class: "sr-only", text: label }),
        " ",
        el("span", { "data-count": true, text: String(counts[kind] || 0) }),
      ]));
    }
    const foot = el("div", { class: "post-foot" }, [
      bar,
      el("button", { type: "button", class: "link comments-toggle", "data-comments-toggle": true, "aria-expanded": "false" }, [
        "Comments (", el("span", { "data-comment-count": true, text: String(post.comment_count || 0) }), ")",
      ]),
    ]);
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    foot.append(el("button", { type: "button", class: "link", "data-reactors": true, "aria-expanded": "false", hidden: total === 0, text: "Who reacted" }));
    if (me && post.author_id === me) {
      foot.append(el("button", { type: "button", class: "link danger", "data-delete-post": post.id }, [
        "Delete", el("span", { class: "sr-only", text: " this post" }),
      ]));
    }
    return foot;
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
      head.append(" ", el("a", { class: "permalink", href: "/p/" + encodeURIComponent(post.id) }, [t]));
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
    return el("article", { class: "post", "data-post-id": post.id }, [
      head,
      postText(post.text),
      postFoot(post),
      el("ul", { class: "reactors", "data-reactor-list": true, hidden: true, "aria-label": "Who reacted" }),
      el("section", { class: "comments", "data-comments": true, hidden: true, "aria-label": "Comments" }),
    ]);
  }

  document.querySelectorAll("time[datetime]").forEach(formatTime);

  // Reactions and comments under a post --------------------------------------------

  function setCommentCount(article, n) {
    const count = article.querySelector("[data-comment-count]");
    if (count) count.textContent = String(Math.max(0, n));
  }

  function commentCount(article) {
    const count = article.querySelector("[data-comment-count]");
    return count ? Number(count.textContent) || 0 : 0;
  }

  function showReactions(article, summary) {
    article.querySelectorAll(".post-foot [data-react]").forEach((button) => {
      const kind = button.dataset.react;
      button.querySelector("[data-count]").textContent = String(summary.reaction_counts[kind] || 0);
      button.setAttribute("aria-pressed", summary.my_reactions.includes(kind) ? "true" : "false");
    });
    setCommentCount(article, summary.comment_count);
    const total = Object.values(summary.reaction_counts).reduce((a, b) => a + b, 0);
    const who = article.querySelector("[data-reactors]");
    who.hidden = total === 0;
    const list = article.querySelector("[data-reactor-list]");
    if (!list.hidden) loadReactors(article);  // keep an open list true
    if (total === 0) {
      list.hidden = true;
      who.setAttribute("aria-expanded", "false");
    }
  }

  async function loadReactors(article) {
    const list = article.querySelector("[data-reactor-list]");
    const page = await api("GET", "/api/v1/posts/" + encodeURIComponent(article.dataset.postId) + "/reactions?limit=50");
    list.replaceChildren(...page.items.map((r) => {
      const kind = REACTIONS.find(([k]) => k === r.kind) || [r.kind, r.kind, ""];
      const person = r.person || {};
      return el("li", {}, [
        el("span", { title: kind[1] }, [el("span", { "aria-hidden": "true", text: kind[2] }), el("span", { class: "sr-only", text: kind[1] + ": " })]),
        " ",
        el("a", { href: "/u/" + encodeURIComponent(person.handle || person.id) }, [el("bdi", { text: person.display_name || person.id })]),
      ]);
    }));
    if (page.next_cursor) list.append(el("li", { class: "hint", text: "and more" }));
  }

  function commentHead(c) {
    const author = c.author || {};
    const head = el("header", { class: "post-head" }, [
      el("a", { class: "author", href: "/u/" + encodeURIComponent(author.handle || c.author_id) }, [
        el("bdi", { text: author.display_name || c.author_id }),
      ]),
    ]);
    if (author.handle) head.append(" ", el("span", { class: "handle", text: "@" + author.handle }));
    if (c.created_at) {
      const t = el("time", { datetime: c.created_at, text: c.created_at });
      formatTime(t);
      head.append(" ", t);
    }
    if (c.edited_at) head.append(" ", el("span", { class: "edited", "data-edited": true, title: "Edited " + new Date(c.edited_at).toLocaleString(), text: "(edited)" }));
    return head;
  }

  function renderComment(c) {
    const thread = c.parent_id || c.id;
    const li = el("li", { class: "comment", "data-comment-id": c.id }, [commentHead(c), postText(c.text)]);
    const actions = el("div", { class: "comment-actions" }, [
      el("button", { type: "button", class: "link", "data-reply": thread, "data-name": (c.author || {}).display_name || "" }, [
        "Reply", el("span", { class: "sr-only", text: " to this comment" }),
      ]),
    ]);
    if (me && c.author_id === me) {
      actions.append(
        el("button", { type: "button", class: "link", "data-edit-comment": c.id }, ["Edit", el("span", { class: "sr-only", text: " your comment" })]),
        el("button", { type: "button", class: "link danger", "data-delete-comment": c.id }, ["Delete", el("span", { class: "sr-only", text: " your comment" })]),
      );
    }
    li.append(actions);
    if (!c.parent_id) li.append(el("ul", { class: "replies" }));
    return li;
  }

  let formSeq = 0;
  function commentForm(label, parentId, value, kind) {
    const id = "comment-text-" + (++formSeq);
    const form = el("form", { class: "comment-form", [kind]: true, "data-parent": parentId || "" }, [
      el("label", { for: id, text: label }),
      el("textarea", { id, name: "text", rows: 2, required: true, maxlength: document.body.dataset.maxText || 5000 }),
    ]);
    form.querySelector("textarea").value = value || "";
    const foot = el("div", { class: "comment-foot" }, [
      el("button", { type: "submit", text: kind === "data-edit-form" ? "Save" : parentId ? "Reply" : "Comment" }),
    ]);
    if (kind === "data-edit-form" || parentId) foot.append(el("button", { type: "button", class: "secondary", "data-cancel-form": true, text: "Cancel" }));
    form.append(foot);
    return form;
  }

  function addComment(list, c) {
    const parent = c.parent_id && list.querySelector('[data-comment-id="' + CSS.escape(c.parent_id) + '"] > .replies');
    (parent || list).append(renderComment(c));
  }

  async function loadComments(article, cursor) {
    const section = article.querySelector("[data-comments]");
    const list = section.querySelector(".comment-list");
    let url = "/api/v1/posts/" + encodeURIComponent(article.dataset.postId) + "/comments";
    if (cursor) url += "?cursor=" + encodeURIComponent(cursor);
    const page = await api("GET", url);
    page.items.forEach((c) => addComment(list, c));
    const old = section.querySelector("[data-more-comments]");
    if (old) old.remove();
    if (page.next_cursor) {
      list.after(el("button", { type: "button", class: "link", "data-more-comments": page.next_cursor, text: "More comments" }));
    }
    const empty = section.querySelector("[data-no-comments]");
    if (empty) empty.hidden = list.children.length > 0;
  }

  async function toggleComments(article, button) {
    const section = article.querySelector("[data-comments]");
    const open = button.getAttribute("aria-expanded") === "true";
    button.setAttribute("aria-expanded", open ? "false" : "true");
    section.hidden = open;
    if (open || section.dataset.loaded) return;
    section.dataset.loaded = "1";
    section.replaceChildren(
      el("ul", { class: "comment-list" }),
      el("p", { class: "empty", "data-no-comments": true, hidden: true, text: "No comments yet." }),
      commentForm("Write a comment", "", "", "data-comment-form"),
    );
    try {
      await loadComments(article, "");
    } catch (err) {
      section.dataset.loaded = "";
      say("Could not load comments: " + err.message);
    }
  }

  async function submitComment(form) {
    const article = form.closest("article.post");
    const section = article.querySelector("[data-comments]");
    const textarea = form.querySelector("textarea");
    const text = textarea.value;
    if (!text.trim()) return;
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      if (form.hasAttribute("data-edit-form")) {
        const li = form.closest("li.comment");
        const c = await api("PATCH", "/api/v1/comments/" + encodeURIComponent(li.dataset.commentId), { text });
        li.querySelector(":scope > .post-head").replaceWith(commentHead(c));
        form.replaceWith(postText(c.text));
        li.querySelector(":scope > .comment-actions").hidden = false;
        say("Comment edited.");
        return;
      }
      const body = { text };
      if (form.dataset.parent) body.parent_id = form.dataset.parent;
      const c = await api("POST", "/api/v1/posts/" + encodeURIComponent(article.dataset.postId) + "/comments", body);
      addComment(section.querySelector(".comment-list"), c);
      section.querySelector("[data-no-comments]").hidden = true;
      setCommentCount(article, commentCount(article) + 1);
      if (form.dataset.parent) form.remove();
      else textarea.value = "";
      say(c.parent_id ? "Reply posted." : "Comment posted.");
    } catch (err) {
      say("Could not save the comment: " + err.message);
    } finally {
      button.disabled = false;
    }
  }

  // The single post page opens its comments.
  document.querySelectorAll("[data-open-comments] article.post").forEach((article) => {
    const toggle = article.querySelector("[data-comments-toggle]");
    if (toggle) toggleComments(article, toggle);
  });

  document.addEventListener("submit", (event) => {
    const form = event.target.closest("form[data-comment-form], form[data-edit-form]");
    if (!form) return;
    event.preventDefault();
    submitComment(form);
  });

  async function conversationClick(target) {
    const article = target.closest("article.post");
    if (target.hasAttribute("data-comments-toggle")) {
      await toggleComments(article, target);
    } else if (target.hasAttribute("data-reactors")) {
      const list = article.querySelector("[data-reactor-list]");
      const open = target.getAttribute("aria-expanded") === "true";
      target.setAttribute("aria-expanded", open ? "false" : "true");
      list.hidden = open;
      if (!open) {
        try {
          await loadReactors(article);
        } catch (err) {
          say("Could not load who reacted: " + err.message);
        }
      }
    } else if (target.dataset.react) {
      const pressed = target.getAttribute("aria-pressed") === "true";
      target.disabled = true;
      try {
        const summary = await api(pressed ? "DELETE" : "PUT", "/api/v1/posts/" + encodeURIComponent(article.dataset.postId) + "/reactions/" + target.dataset.react);
        showReactions(article, summary);
      } catch (err) {
        say("Could not react: " + err.message);
      } finally {
        target.disabled = false;
      }
    } else if (target.dataset.moreComments) {
      target.disabled = true;
      try {
        await loadComments(article, target.dataset.moreComments);
      } catch (err) {
        say("Could not load more comments: " + err.message);
        target.disabled = false;
      }
    } else if (target.dataset.reply) {
      const thread = article.querySelector('[data-comment-id="' + CSS.escape(target.dataset.reply) + '"]');
      let form = thread.querySelector(":scope > form[data-comment-form]");
      if (!form) {
        form = commentForm("Reply to " + (target.dataset.name || "this comment"), target.dataset.reply, "", "data-comment-form");
        thread.append(form);
      }
      form.querySelector("textarea").focus();
    } else if (target.dataset.editComment) {
      const li = target.closest("li.comment");
      const text = li.querySelector(":scope > .post-text");
      if (!text) return;
      const form = commentForm("Edit your comment", "", text.textContent, "data-edit-form");
      form.dataset.original = text.textContent;
      text.replaceWith(form);
      li.querySelector(":scope > .comment-actions").hidden = true;
      form.querySelector("textarea").focus();
    } else if (target.hasAttribute("data-cancel-form")) {
      const form = target.closest("form");
      if (form.hasAttribute("data-edit-form")) {
        form.closest("li.comment").querySelector(":scope > .comment-actions").hidden = false;
        form.replaceWith(postText(form.dataset.original));
      } else {
        form.remove();
      }
    } else if (target.dataset.deleteComment) {
      if (!window.confirm("Delete this comment?")) return;
      try {
        await api("DELETE", "/api/v1/comments/" + encodeURIComponent(target.dataset.deleteComment));
        const li = target.closest("li.comment");
        setCommentCount(article, commentCount(article) - 1 - li.querySelectorAll(".replies > li").length);
        li.remove();
        say("Comment deleted.");
      } catch (err) {
        say("Could not delete the comment: " + err.message);
      }
    }
  }

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
    // A change that cannot be taken back (narrowing a community) asks first.
    for (const select of form.querySelectorAll("select[data-confirm-change]")) {
      const initial = Array.from(select.options).find((o) => o.defaultSelected);
      if (initial && select.value !== initial.value && !window.confirm(select.dataset.confirmChange)) return;
    }
    const body = {};
    for (const field of form.elements) {
      if (!field.name || field.disabled) continue;
      let value = field.value;
      if (field.hasAttribute("data-handle")) value = value.trim().replace(/^@/, "");
      if (field.hasAttribute("data-bool")) value = field.checked;
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
    // ({person_id}), data-role ({role}) or data-body (JSON) for the body, data-confirm, data-done, data-then.
    if (target.dataset.api) {
      if (target.dataset.confirm && !window.confirm(target.dataset.confirm)) return;
      let body;
      if (target.dataset.body) body = JSON.parse(target.dataset.body);
      else if (target.dataset.person) body = { person_id: target.dataset.person };
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

    if (target.closest("article.post") && target.matches("[data-comments-toggle], [data-reactors], [data-react], [data-more-comments], [data-reply], [data-edit-comment], [data-cancel-form], [data-delete-comment]")) {
      await conversationClick(target);
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

    if (target.dataset.followTopic) {
      const following = target.getAttribute("aria-pressed") === "true";
      const tag = target.dataset.followTopic;
      target.disabled = true;
      try {
        const topic = await api(following ? "DELETE" : "POST", "/api/v1/topics/" + encodeURIComponent(tag) + "/follow");
        target.setAttribute("aria-pressed", topic.following ? "true" : "false");
        target.replaceChildren(topic.following ? "Following" : "Follow", el("span", { class: "sr-only", text: " #" + tag }));
        const count = document.querySelector("[data-follower-count]");
        if (count) count.textContent = topic.follower_count + (topic.follower_count === 1 ? " follower" : " followers");
        say((topic.following ? "Following #" : "Unfollowed #") + tag);
      } catch (err) {
        say("Could not change follow: " + err.message);
      } finally {
        target.disabled = false;
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

  // Same wording as the notification_text macro in templates/_macros.html.
  function notificationText(n) {
    const actor = n.actor || {};
    const parts = [el("a", { href: "/u/" + encodeURIComponent(actor.handle || n.actor_id) }, [el("bdi", { text: actor.display_name || n.actor_id })])];
    const others = (n.actor_count || 1) - 1;
    if (others > 0) parts.push(" and " + others + (others === 1 ? " other" : " others"));
    const community = () => n.community_id
      ? el("a", { href: "/c/" + encodeURIComponent(n.community_id) }, [el("bdi", { text: n.community_name || "a community" })])
      : "a community";
    const post = (words) => n.post_id ? el("a", { href: "/p/" + encodeURIComponent(n.post_id), text: words }) : words;
    switch (n.kind) {
      case "mention": parts.push(" mentioned you"); if (n.post_id) parts.push(" in ", post("a post")); break;
      case "new_follower": parts.push(" started following you"); break;
      case "reply": parts.push(" replied in ", post("a conversation")); break;
      case "reaction": {
        parts.push(" reacted");
        const r = REACTIONS.find(([kind]) => kind === n.reaction);
        if (r) parts.push(" ", el("span", { title: r[1] }, [el("span", { "aria-hidden": "true", text: r[2] }), el("span", { class: "sr-only", text: r[1] })]));
        parts.push(" to ", post("your post"));
        break;
      }
      case "community_invite": parts.push(" invited you to join ", community()); break;
      case "join_request": parts.push(" asked to join ", community()); break;
      case "request_approved": parts.push(" let you into ", community()); break;
      case "community_post":
        parts.push(" posted in ", community());
        if (n.post_id) parts.push(" (", post("see the post"), ")");
        break;
      default: parts.push(" did something");
    }
    return parts;
  }

  function renderNotification(n) {
    const li = el("li", { class: "card notification" + (n.read ? "" : " unread"), "data-kind": n.kind }, notificationText(n));
    li.append(" ");
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
