#include <array>
#include <string>

#include "messaging/sms.hpp"

namespace cunhuo::messaging {
namespace {

// One line per template. To add one (an order to pack, an excursion, a monitoring alert):
// name its code in sms.hpp, add its text here, and register it with the gateway under the
// same code (or map it in GatewaySmsOptions::template_codes).
constexpr std::array kTemplates = {
    SmsTemplate{kVerificationCode,
                "您的村货验证码是${code}，${minutes}分钟内有效。任何人（包括服务站工作人员）"
                "索要此码都不要给。"},
    SmsTemplate{kProxyConfirmCode,
                "服务站正在为您代买或代卖，确认码${code}，${minutes}分钟内有效。"
                "只在服务站柜台当面办理时告诉工作人员；此码不能用于登录。"},
    SmsTemplate{kProxyOrderCode,
                "服务站为您代买${item}，共${total}元，确认码${code}，${minutes}分钟内有效。"
                "只在柜台当面办理时告诉工作人员；此码不能用于登录。"},
    SmsTemplate{kProxyListingCode,
                "服务站为您代卖${title}，每${unit}${price}元，共${stock}${unit}，确认码${code}，"
                "${minutes}分钟内有效。只在柜台当面办理时告诉工作人员。"},
    SmsTemplate{kAlreadyRegistered, "此手机号已注册村货账户，请直接登录。如非本人操作，请忽略。"},
    SmsTemplate{kOrderToPack, "订单${order}已付款，请在${pack_by}前打包，等待取件。"},
    SmsTemplate{kExcursionOpened,
                "冷链温度异常：${node}（异常${excursion}），相关包裹已暂扣，请尽快确认是否变质。"},
    SmsTemplate{kMonitoringAlert, "防返贫监测预警${alert}（${rule}），请尽快走访您帮扶的农户。"},
    SmsTemplate{kPickupCode,
                "您的包裹${parcel}已到${place}，取件码${code}，${days}天内有效。取件时当面告诉"
                "工作人员；任何人电话索要都不要给。"},
};

}  // namespace

bool carries_one_time_code(std::string_view code) {
  for (auto c :
       {kVerificationCode, kProxyConfirmCode, kProxyOrderCode, kProxyListingCode, kPickupCode})
    if (code == c) return true;
  return false;
}

const SmsTemplate* find_template(std::string_view code) {
  for (const auto& t : kTemplates)
    if (t.code == code) return &t;
  return nullptr;
}

Result<std::string> render(const SmsMessage& message) {
  const SmsTemplate* t = find_template(message.template_code);
  if (t == nullptr)
    return make_error(ErrorKind::invalid, "unknown_template",
                      "no text message template named " + message.template_code, "template_code");
  std::string out;
  std::string_view rest = t->text;
  for (auto open = rest.find("${"); open != std::string_view::npos; open = rest.find("${")) {
    const auto close = rest.find('}', open);
    out.append(rest.substr(0, open));
    const std::string_view name = rest.substr(open + 2, close - open - 2);
    const std::string* value = nullptr;
    for (const auto& [n, v] : message.params)
      if (n == name) value = &v;
    if (value == nullptr)
      return make_error(ErrorKind::invalid, "missing_param",
                        "the template needs the parameter " + std::string(name), std::string(name));
    out += *value;
    rest = rest.substr(close + 1);
  }
  out.append(rest);
  return out;
}

}  // namespace cunhuo::messaging
