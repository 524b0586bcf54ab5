// The user-facing texts of the pages, Chinese first. A template reads them as {{t.key}};
// code reads them with text(). Keys hold no dots: mustache reads a dot as a step into an object. A
// key missing here shows as itself, and the templates test finds every key a template names.
#include <string_view>

#include "storefront/web/templates.hpp"

namespace cunhuo::storefront::web {
namespace {

struct Text {
  std::string_view key, zh, en;
};

constexpr Text kTexts[] = {
    {"site_name", "村货", "Cunhuo"},
    {"site_tagline", "买村里的好货，钱回到种它的农户", "Village goods: the money goes home"},
    {"nav_home", "首页", "Home"},
    {"nav_orders", "我的订单", "My orders"},
    {"nav_login", "登录", "Log in"},
    {"nav_logout", "退出", "Log out"},
    {"nav_lang", "English", "中文"},
    {"search_placeholder", "搜索特产，如 苹果、小米", "Search, e.g. apples, millet"},
    {"search_button", "搜索", "Search"},
    {"home_campaigns", "正在进行的帮扶活动", "Campaigns now running"},
    {"home_no_campaigns", "暂无进行中的活动", "No campaign is running now"},
    {"home_ends", "截止", "Ends"},
    {"home_discount", "优惠", "Off"},
    {"campaign_consumption", "消费帮扶", "Consumption support"},
    {"campaign_enterprise_pairing", "企业结对", "Enterprise pairing"},
    {"campaign_festival", "节庆促销", "Festival"},
    {"campaign_anti_season", "反季节", "Off-season"},
    {"campaign_special_price", "特价", "Special price"},
    {"campaign_flash_sale", "限时抢购", "Flash sale"},
    {"title_search", "搜索结果", "Search results"},
    {"search_none", "没有找到相关商品，换个词试试。", "Nothing found: try other words."},
    {"search_more", "更多", "More"},
    {"title_product", "商品", "Product"},
    {"product_origin", "产地", "Origin"},
    {"product_shop", "店铺", "Shop"},
    {"product_harvest", "采收日期", "Harvested"},
    {"product_lot", "批次", "Lot"},
    {"product_temperature", "储运温度", "Kept"},
    {"product_stock", "库存", "In stock"},
    {"product_certified", "扶贫产品认定", "Certified poverty-alleviation product"},
    {"product_certificate_no", "证书编号", "Certificate"},
    {"product_producers", "生产农户", "Grown by"},
    {"product_split_before", "单独购买一件", "Bought alone at"},
    {"product_split_households", "，农户得到", ", the households receive"},
    {"product_split_platform", "平台服务费", "Platform fee"},
    {"product_split_logistics", "物流费（每单）", "Logistics (per order)"},
    {"product_split_commission", "合作社佣金", "Cooperative commission"},
    {"temperature_ambient", "常温", "Ambient"},
    {"temperature_chilled", "冷藏 0–8°C", "Chilled 0–8°C"},
    {"temperature_frozen", "冷冻 −18°C 以下", "Frozen below −18°C"},
    {"title_shop", "店铺", "Shop"},
    {"shop_cooperative", "合作社", "Cooperative"},
    {"shop_members", "成员农户", "Member households"},
    {"shop_listings", "在售商品", "On sale"},
    {"shop_no_listings", "暂无在售商品", "Nothing on sale now"},
    {"title_village", "村庄", "Village"},
    {"village_title", "村庄", "Village"},
    {"village_taobao", "淘宝村", "Taobao village"},
    {"village_active_shops", "在营网店", "Active shops"},
    {"title_login", "手机验证码登录", "Log in with a code"},
    {"login_phone", "手机号", "Mobile number"},
    {"login_get_code", "获取验证码", "Send me a code"},
    {"login_new_phone", "未注册的手机号，验证后将自动创建账户。",
     "A number with no account gets one once the code is entered."},
    {"login_code", "短信验证码（6位）", "The 6-digit code from the text message"},
    {"login_submit", "登录", "Log in"},
    {"login_resend", "没收到？重新发送", "Not received? Send again"},
    {"login_sent", "验证码已发送至", "A code was sent to"},
    {"login_wait", "验证码刚刚已发送，请稍候再重新获取；收到的验证码 5 分钟内有效。",
     "A code was sent a moment ago: wait before asking again. A code is good for 5 minutes."},
    {"err_invalid_phone", "请输入 11 位手机号。", "Enter an 11-digit mobile number."},
    {"err_invalid_code", "验证码错误或已过期，请重新输入或重新获取。",
     "The code is wrong or has expired: enter it again or ask for a new one."},
    {"title_farm", "我的农户小店", "My farm shop"},
    {"farm_new_listing", "上架新商品", "List a product"},
    {"farm_packed_notice", "已标记打包：订单", "Marked packed: order"},
    {"farm_no_shop", "您的农户还没有网店，请联系乡镇服务站开通。",
     "Your household has no shop yet: ask the township station to open one."},
    {"farm_to_pack", "今天要打包的订单", "Orders to pack today"},
    {"farm_pack_by", "打包截止", "Pack by"},
    {"farm_pickup", "送到", "Take to"},
    {"farm_mark_packed", "已打包", "Packed"},
    {"farm_label", "面单", "Label"},
    {"farm_nothing_to_pack", "暂时没有要打包的订单。", "Nothing to pack now."},
    {"title_label", "包裹面单", "Parcel label"},
    {"label_none", "物流单号生成中，请稍后刷新。",
     "The tracking number is on its way: refresh soon."},
    {"label_print", "打印", "Print"},
    {"err_forbidden", "您不能对此订单进行该操作。", "You cannot do that to this order."},
    {"err_invalid_transition", "订单当前状态不能这样改。",
     "The order cannot move so from where it is."},
    {"unit_jin", "斤", "jin (500 g)"},
    {"unit_kg", "千克", "kg"},
    {"unit_box", "箱", "box"},
    {"unit_piece", "个", "piece"},
    {"title_listing_new", "上架新商品", "List a product"},
    {"listing_photo", "拍一张商品照片", "Take a photo of it"},
    {"listing_title", "商品名称", "What it is"},
    {"listing_title_hint", "如：民勤蜜瓜 5斤装", "e.g. Minqin melon, 2.5 kg box"},
    {"listing_price", "价格（元）", "Price (yuan)"},
    {"listing_unit", "单位", "Unit"},
    {"listing_stock", "库存", "How many"},
    {"listing_more", "更多（可不填）", "More (optional)"},
    {"listing_category", "类别", "Category"},
    {"listing_submit", "上架", "List it"},
    {"listing_retrying", "网络不稳，正在重试…", "The line dropped: trying again…"},
    {"listing_failed", "没有发出去，请检查网络后再点上架。",
     "Not sent: check the signal and tap again."},
    {"title_listings", "我的商品", "My listings"},
    {"listings_created", "商品已上架。", "Listed."},
    {"listings_off", "已下架", "Off sale"},
    {"listings_save", "保存", "Save"},
    {"listings_none", "还没有商品，点“上架新商品”开始。", "Nothing listed yet."},
    {"err_invalid_title", "请填写商品名称（不超过 60 个字）。", "Give the product a name."},
    {"err_invalid_price", "请填写价格，如 12.50。", "Give a price in yuan, such as 12.50."},
    {"err_invalid_stock", "请填写库存数量（整数）。", "Give how many, as a whole number."},
    {"err_invalid_unit", "请选择单位。", "Choose a unit."},
    {"err_invalid_category", "请选择类别。", "Choose a category."},
    {"err_invalid_temperature", "请选择储运温度。", "Choose how it is kept."},
    {"err_invalid_harvest_date", "采收日期格式不对。", "The harvest date is not a date."},
    {"err_not_an_image", "照片无法识别，请重新拍一张（请重新选择照片）。",
     "The photo could not be read: take another (choose it again)."},
    {"err_image_too_big", "照片太大，请重新拍一张（请重新选择照片）。",
     "The photo is too large: take another (choose it again)."},
    {"err_no_shop", "您的农户还没有网店，请联系乡镇服务站开通。",
     "Your household has no shop yet: ask the township station."},
    {"err_request_in_progress", "正在上架中，请稍候。", "Still listing: wait a moment."},
    {"title_home", "村货 · 帮扶好物", "Cunhuo · village goods"},
    {"title_not_found", "找不到页面", "Not found"},
    {"title_refused", "无法完成", "Cannot do that"},
    {"not_found_body", "您要找的内容不存在，或已下架。", "What you looked for does not exist."},
    {"not_found_back", "回到首页", "Back to the home page"},
    {"refused_back", "返回", "Back"},
    {"err_generic", "无法完成，请检查填写的内容。",
     "That could not be done: check what you entered."},
    {"err_bad_form_token", "页面已过期，请再提交一次。", "The page had expired: submit it again."},
    {"err_session_expired", "登录已过期，请重新登录后再提交。",
     "Your login has expired: log in and submit again."},
    {"err_unauthenticated", "请先登录。", "Please log in first."},
    {"err_role_not_allowed", "此页面不对您的账户开放。", "This page is not for your account."},
    {"err_bad_form", "提交的内容无法识别。", "The form could not be read."},
    {"err_not_found", "找不到该内容。", "Not found."},
    {"err_store_unavailable", "系统繁忙，请稍后再试。", "The system is busy: try again soon."},
    {"err_too_many_requests", "操作太频繁，请稍后再试。", "Too many tries: wait a little."},
    {"sample_note", "演示数据：这里的姓名、农户、订单和数字都是虚构的。",
     "Sample data: every name, household, order and figure here is invented."},
};

}  // namespace

View texts(Lang lang) {
  View t{View::type::object};
  for (const auto& x : kTexts)
    t.set(std::string(x.key), std::string(lang == Lang::en ? x.en : x.zh));
  return t;
}

std::string_view text(std::string_view key, Lang lang) {
  for (const auto& x : kTexts)
    if (x.key == key) return lang == Lang::en ? x.en : x.zh;
  return key;
}

}  // namespace cunhuo::storefront::web
