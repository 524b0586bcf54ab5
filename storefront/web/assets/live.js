// live.js: keeps a page current from the live feed (GET /live, a WebSocket; see
// storefront/live/feed.hpp). The page carries <p id="live" data-after="N">, N the newest
// event when it was read, so nothing between the page and the connection is missed. Each
// event is said in a short log (#live-log, newest first); a relevant one refreshes the
// page's #board from the page itself, at most once per DEBOUNCE_MS. A dropped connection
// is retried with growing pauses and resumes after the last event seen; a "reload" event
// (too much was missed) refreshes everything. Without JavaScript the page is simply static.
(() => {
  const live = document.getElementById('live');
  if (!live || !window.WebSocket || !window.fetch || !window.DOMParser) return;
  const DEBOUNCE_MS = 150, FIRST_PAUSE_MS = 500, MAX_PAUSE_MS = 10000, LOG_LINES = 20;
  const en = document.documentElement.lang === 'en';
  const say = (zh, english) => (en ? english : zh);
  const STATES = {
    connecting: say('正在连接实时动态…', 'Connecting…'),
    live: say('实时更新中', 'Live'),
    dropped: say('连接已断开，正在重连…', 'Disconnected: reconnecting…'),
    ended: say('登录已失效，请重新登录后刷新本页', 'Signed out: sign in again and reload'),
  };
  const SESSION_ENDED = 4001;  // feed.hpp kCloseSessionEnded: retrying cannot help
  // Words per event type: the first entry whose key the type equals, or starts with when
  // the key ends in '.'.
  const WORDS = [
    ['order.paid', '订单已付款', 'Order paid'],
    ['order.packed', '订单已打包', 'Order packed'],
    ['order.shipped', '订单已发货', 'Order shipped'],
    ['order.delivered', '订单已送达', 'Order delivered'],
    ['order.completed', '订单已完成', 'Order completed'],
    ['order.cancelled', '订单已取消', 'Order cancelled'],
    ['order.refunded', '订单已退款', 'Order refunded'],
    ['order.', '新订单或订单变化', 'Order changed'],
    ['payment.captured', '收到付款', 'Payment received'],
    ['payment.order_refunded', '退款已退回', 'Refund sent'],
    ['shipment.departed', '包裹已发出', 'Parcel left'],
    ['shipment.delivered', '包裹已到达', 'Parcel arrived'],
    ['shipment.spoiled', '包裹确认变质', 'Parcel spoiled'],
    ['shipment.ready_for_pickup', '包裹到站待取', 'Parcel ready for pickup'],
    ['excursion.raised', '冷链超温报警', 'Cold-chain excursion'],
    ['excursion.decided', '超温已处理', 'Excursion decided'],
    ['refund_claim.filed', '新的退款申请', 'Refund claimed'],
    ['refund_claim.decided', '退款申请已处理', 'Refund claim decided'],
    ['household.card_changed', '农户档案变更', 'Household card changed'],
  ];
  const state = document.getElementById('live-state');
  const log = document.getElementById('live-log');
  let after = Number(live.dataset.after) || 0;
  let pause = FIRST_PAUSE_MS, timer = null, fetching = false, again = false, logged = 0;

  const show = (s) => { live.dataset.state = s; if (state) state.textContent = STATES[s]; };

  function words(type) {
    for (const [key, zh, english] of WORDS)
      if (type === key || (key.endsWith('.') && type.startsWith(key))) return say(zh, english);
    return type;
  }

  function note(event) {
    if (!log) return;
    if (logged === 0) log.textContent = '';
    const line = document.createElement('li');
    const data = event.data || {};
    const what = data.order_id ? ` #${data.order_id}` : data.excursion_id ? ` #${data.excursion_id}` : '';
    const at = new Date(event.at || Date.now()).toLocaleTimeString(en ? 'en-GB' : 'zh-CN');
    line.textContent = `${at} ${words(event.type)}${what}`;
    line.dataset.id = event.id;
    line.dataset.type = event.type;
    log.prepend(line);
    logged += 1;
    while (log.children.length > LOG_LINES) log.lastElementChild.remove();
  }

  async function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    try {
      const reply = await fetch(location.pathname + location.search, { credentials: 'same-origin' });
      if (reply.ok) {
        const fresh = new DOMParser().parseFromString(await reply.text(), 'text/html');
        for (const id of ['board', 'read-at']) {
          const now = document.getElementById(id), next = fresh.getElementById(id);
          if (now && next) now.replaceWith(document.adoptNode(next));
        }
      }
    } catch (e) {
      // The connection dropped meanwhile: its reconnection refreshes again.
    } finally {
      fetching = false;
      if (again) { again = false; schedule(); }
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
  }

  function connect() {
    show('connecting');
    const url = new URL('/live', location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    if (after > 0) url.searchParams.set('after', String(after));
    const socket = new WebSocket(url);
    socket.onopen = () => { pause = FIRST_PAUSE_MS; show('live'); };
    socket.onmessage = (message) => {
      let event;
      try { event = JSON.parse(message.data); } catch (e) { return; }
      if (event.id > after) after = event.id;
      if (event.type === 'reload') { refresh(); return; }
      note(event);
      schedule();
    };
    socket.onclose = (closed) => {
      if (closed.code === SESSION_ENDED) { show('ended'); return; }
      show('dropped');
      setTimeout(connect, pause);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    };
  }

  connect();
})();
