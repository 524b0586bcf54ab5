// WeChat Pay v3's cryptography against vectors made with other implementations: the
// signature with the openssl command line, the AES-GCM resource with Node.js's crypto.
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>

#include "payments/wechatpay/crypto.hpp"
#include "payments/wechatpay/protocol.hpp"
#include "tests/support/support.hpp"

namespace wx = cunhuo::payments::wechatpay;

namespace {

const std::string kKeyFile =
    std::string(CUNHUO_SOURCE_DIR) + "/tests/data/wechatpay/merchant-test-key.pem";

// The message of WeChat Pay's documentation example (a Native order).
const std::string kBody =
    R"({"appid":"wxd678efh567hg6787","mchid":"1230000109",)"
    R"("description":"Image形象店-深圳腾大-QQ公仔","out_trade_no":"1217752501201407033233368018",)"
    R"("notify_url":"https://www.weixin.qq.com/wxpay/pay.php",)"
    R"("amount":{"total":100,"currency":"CNY"}})";
const std::string kMessage = wx::request_message(
    "POST", "/v3/pay/transactions/native", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", kBody);

// Made with: printf '<kMessage>' > msg && openssl dgst -sha256 -sign merchant-test-key.pem msg
// | base64 -w0 (OpenSSL 3, PKCS#1 v1.5: deterministic).
constexpr const char* kOpensslSignature =
    "Je4FjNeE9G9gZuiQH8xCVFcCRkmAGTJ/xtU3Ms23IZQ/9hs+ysirdYXC/iDDe3tG47DT8C1u24GdngTsGLHGk4BRco"
    "b6Sn388X7azzY8LzITZEvMjDKyiy3doXOiSxGC28/UG54it8cQOLkA3htmYF4PM6+k5XGyRyyssex8ncyePIsb1oTu5"
    "DZi3grVhDb3Qtm2MGAIz0rNp+2hfg8h61dn7loYvbli31TyKPmeqaMk0/DSwZMGCAYifVDMwx/CXz+GiW+FCS8zYxPm"
    "yubs2BBoWH6Cll1/TOQHpfVdty67evXSSv+28XF9s27AYuoVr8YFrgKfZBJDU94GHjKLSg==";

// Made with Node.js 20: crypto.createCipheriv('aes-256-gcm', key, nonce), setAAD(aad),
// update(plaintext) + final() + getAuthTag(), in base64.
constexpr const char* kGcmKey = "0123456789abcdef0123456789ABCDEF";
constexpr const char* kGcmNonce = "fdasflkja484";
constexpr const char* kGcmAad = "transaction";
constexpr const char* kGcmPlain =
    R"({"mchid":"1230000109","out_trade_no":"CUNHUO42","trade_state":"SUCCESS",)"
    R"("amount":{"total":100,"currency":"CNY"}})";
constexpr const char* kGcmSealed =
    "bz1kVndYkCFlgKSV7lZeuBxDb6Dr2XsMVxgLZBGofcEd7SUTxiqH3I48+OijPreNmB1FVSjrNe3Kb41DZ6YqgCke6RM+"
    "fByrvVe+19m5QfYdNZTKyCqZgTYINPJUjItyZh4DarGAaabB48Ybsza8r9xYjC+vYJF6MtXgxIHskss=";

// The checked-in test key (its file is as git makes it, 0644: read here, not as a secret).
std::string checked_in_key() {
  std::ifstream in(kKeyFile, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("a request is signed exactly as openssl dgst -sha256 -sign signs it", "[wechatpay]") {
  auto key = wx::RsaKey::from_private_pem(checked_in_key());
  REQUIRE(key.ok());
  auto signature = key->sign(kMessage);
  REQUIRE(signature.ok());
  CHECK(*signature == kOpensslSignature);
  CHECK(key->verifies(kMessage, *signature));
  CHECK_FALSE(key->verifies(kMessage + " ", *signature));
}

TEST_CASE("openssl's command line verifies the adapter's signature", "[wechatpay]") {
  if (std::system("command -v openssl >/dev/null 2>&1") != 0)
    SUCCEED("no openssl here");
  else {
    const std::string dir = cunhuo::test::temp_dir();
    auto key = wx::RsaKey::from_private_pem(checked_in_key());
    REQUIRE(key.ok());
    const std::string message =
        wx::request_message("GET", "/v3/certificates", "1700000000", "NONCE", "");
    std::ofstream(dir + "/msg", std::ios::binary) << message;
    std::ofstream(dir + "/pub.pem") << *key->public_pem();
    std::ofstream(dir + "/sig.b64") << *key->sign(message) << "\n";
    const std::string cmd = "cd " + dir +
                            " && base64 -d sig.b64 > sig && openssl dgst -sha256 -verify pub.pem "
                            "-signature sig msg >/dev/null 2>&1";
    CHECK(std::system(cmd.c_str()) == 0);
  }
}

TEST_CASE("a resource sealed by Node.js opens under the APIv3 key", "[wechatpay]") {
  auto plain = wx::aes_gcm_open(kGcmKey, kGcmNonce, kGcmAad, kGcmSealed);
  REQUIRE(plain.ok());
  CHECK(*plain == kGcmPlain);
  auto sealed = wx::aes_gcm_seal(kGcmKey, kGcmNonce, kGcmAad, kGcmPlain);
  REQUIRE(sealed.ok());
  CHECK(*sealed == kGcmSealed);  // GCM is deterministic for a given key and nonce
}

TEST_CASE("a resource does not open with another key, nonce, associated data or a changed byte",
          "[wechatpay]") {
  std::string flipped = kGcmSealed;
  flipped[10] = flipped[10] == 'A' ? 'B' : 'A';
  const struct {
    const char *key, *nonce, *aad;
    std::string sealed;
  } cases[] = {
      {"0123456789abcdef0123456789ABCDEX", kGcmNonce, kGcmAad, kGcmSealed},
      {kGcmKey, "fdasflkja485", kGcmAad, kGcmSealed},
      {kGcmKey, kGcmNonce, "certificate", kGcmSealed},
      {kGcmKey, kGcmNonce, kGcmAad, flipped},
      {kGcmKey, kGcmNonce, kGcmAad, "not base64!"},
  };
  for (const auto& c : cases) {
    auto plain = wx::aes_gcm_open(c.key, c.nonce, c.aad, c.sealed);
    REQUIRE_FALSE(plain.ok());
    CHECK(plain.error().code == wx::kUndecryptable);
  }
}

TEST_CASE("the Authorization header reads back as written", "[wechatpay]") {
  const wx::Authorization a{.mchid = "1900009191",
                            .nonce_str = "593BEC0C930BF1AFEB40B4A08C8FB242",
                            .signature = "abc+/=",
                            .timestamp = "1554208460",
                            .serial_no = "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"};
  const std::string header = wx::format_authorization(a);
  CHECK(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\""));
  auto back = wx::parse_authorization(header);
  REQUIRE(back.ok());
  CHECK(back->signature == a.signature);
  CHECK(back->serial_no == a.serial_no);
}

TEST_CASE("a certificate made here carries its serial, key and validity", "[wechatpay]") {
  auto key = wx::RsaKey::generate();
  REQUIRE(key.ok());
  auto cert = wx::Certificate::self_signed(*key, "test", "5157F09EFDC096DE15EBE81A47057A72",
                                           1'700'000'000, 10);
  REQUIRE(cert.ok());
  auto read = wx::Certificate::from_pem(*cert->pem());
  REQUIRE(read.ok());
  CHECK(read->serial() == "5157F09EFDC096DE15EBE81A47057A72");
  CHECK(read->not_after_s() == 1'700'000'000 + 10 * 86400);
  CHECK(read->public_key().verifies("m", *key->sign("m")));
}

TEST_CASE("the trade bill's backticked CSV reads back, amounts in fen", "[wechatpay]") {
  const std::vector<wx::TradeBillLine> lines = {{.trade_time = "2026-12-07 10:00:00",
                                                 .transaction_id = "4200001",
                                                 .out_trade_no = "CUNHUO7",
                                                 .trade_state = "SUCCESS",
                                                 .total = 12345},
                                                {.trade_time = "2026-12-07 11:00:00",
                                                 .transaction_id = "4200001",
                                                 .out_trade_no = "CUNHUO7",
                                                 .trade_state = "REFUND",
                                                 .refund_id = "5030001",
                                                 .out_refund_no = "r1",
                                                 .total = 12345,
                                                 .refund = 45}};
  const std::string csv = wx::format_trade_bill("wx1", "190", lines);
  CHECK(csv.find("`CUNHUO7,`") != std::string::npos);
  CHECK(csv.find("`123.45") != std::string::npos);
  auto back = wx::parse_trade_bill(csv);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 2);
  CHECK((*back)[0].total == 12345);
  CHECK((*back)[1].refund == 45);
  CHECK((*back)[1].refund_id == "5030001");
}

TEST_CASE("base64 decodes only the one spelling base64_encode writes", "[wechatpay]") {
  const struct {
    const char* text;
    const char* why;
  } refused[] = {
      {"QQ==    ", "trailing whitespace"},
      {"    QUJD", "leading whitespace"},
      {"QU JD", "whitespace inside"},
      {"QUJD\n", "a line break"},
      {"QQ=", "not whole groups"},
      {"Q===", "three padding characters"},
      {"QU=D", "padding inside"},
      {"QUJD====", "a group of padding"},
      {"QR==", "unused bits not zero (one byte)"},
      {"QUJ=", "unused bits not zero (two bytes)"},
      {"-_8=", "the URL-safe alphabet"},
      {"QUJD!A==", "a character of no alphabet"},
  };
  for (const auto& r : refused) {
    INFO(r.why);
    CHECK_FALSE(wx::base64_decode(r.text).has_value());
  }
  CHECK(wx::base64_decode("") == std::string());
  CHECK(wx::base64_decode("QQ==") == std::string("A"));
  CHECK(wx::base64_decode("QUI=") == std::string("AB"));
  CHECK(wx::base64_decode("QUJD") == std::string("ABC"));
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  for (std::size_t n : {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{256}})
    CHECK(wx::base64_decode(wx::base64_encode(all.substr(0, n))) == all.substr(0, n));
}

TEST_CASE("an AES-GCM nonce is exactly 12 bytes", "[wechatpay]") {
  for (const char* nonce : {"", "n", "fdasflkja48", "fdasflkja4840"}) {
    INFO(nonce);
    CHECK_FALSE(wx::aes_gcm_seal(kGcmKey, nonce, kGcmAad, kGcmPlain).ok());
    auto opened = wx::aes_gcm_open(kGcmKey, nonce, kGcmAad, kGcmSealed);
    REQUIRE_FALSE(opened.ok());
    CHECK(opened.error().code == wx::kUndecryptable);
  }
  CHECK(std::string_view(kGcmNonce).size() == wx::kGcmNonceBytes);
}

TEST_CASE("a timestamp is digits up to 4e9; any other is stale before any arithmetic",
          "[wechatpay]") {
  for (const char* text : {"", "-1", "+5", " 1", "1 ", "123abc", "0x10", "4000000001",
                           "99999999999", "-9223372036854775808", "9223372036854775807"}) {
    INFO(text);
    CHECK_FALSE(wx::parse_timestamp(text).has_value());
    CHECK_FALSE(wx::fresh_timestamp(text, 1'796'000'000));
  }
  CHECK(wx::parse_timestamp("0") == 0);
  CHECK(wx::parse_timestamp("4000000000") == 4'000'000'000);
  CHECK(wx::fresh_timestamp("1796000299", 1'796'000'000));
  CHECK_FALSE(wx::fresh_timestamp("1796000300", 1'796'000'000));
  CHECK_FALSE(wx::fresh_timestamp("1796000000", -9'223'372'036'854'775'807 - 1));
  // Signed properly, the most negative timestamp is refused as stale (it once overflowed).
  auto key = wx::RsaKey::from_private_pem(checked_in_key());
  REQUIRE(key.ok());
  const std::string at = "-9223372036854775808";
  const wx::SignedHeaders h{"S", at, "N", *key->sign(wx::response_message(at, "N", "{}"))};
  auto checked = wx::check_signed(h, "{}", *key, 1'796'000'000);
  REQUIRE_FALSE(checked.ok());
  CHECK(checked.error().code == wx::kStale);
}

TEST_CASE("an Authorization header naming a field twice, or one empty, is refused", "[wechatpay]") {
  const std::string good = wx::format_authorization(wx::Authorization{.mchid = "1900009191",
                                                                      .nonce_str = "N1",
                                                                      .signature = "abc=",
                                                                      .timestamp = "1554208460",
                                                                      .serial_no = "1DDE"});
  REQUIRE(wx::parse_authorization(good).ok());
  const std::string scheme = "WECHATPAY2-SHA256-RSA2048 ";
  const std::string fields =
      R"(mchid="1900009191",nonce_str="N1",signature="abc=",timestamp="1554208460",)"
      R"(serial_no="1DDE")";
  for (const std::string& header :
       {scheme + fields + R"(,nonce_str="N2")", scheme + R"(mchid="1",)" + fields,
        scheme + fields + R"(,signature="xyz=")",
        scheme + R"(mchid="1900009191",nonce_str="",signature="abc=",timestamp="1",)"
                 R"(serial_no="1DDE")",
        scheme + R"(mchid="1900009191",nonce_str="N1",signature="abc=",timestamp="1")"}) {
    INFO(header);
    auto parsed = wx::parse_authorization(header);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == "SIGN_ERROR");
  }
}

TEST_CASE("a nonce is refused again within its 5 minutes, forgotten after, and bounded",
          "[wechatpay]") {
  using Verdict = wx::NonceWindow::Verdict;
  wx::NonceWindow window;
  const std::int64_t t = 1'796'000'000;
  CHECK(window.take("a", t, t) == Verdict::first);
  CHECK(window.take("b", t, t) == Verdict::first);
  CHECK(window.take("a", t + 10, t + 10) == Verdict::replayed);
  CHECK(window.take("a", t, t + wx::kMaxSkewSeconds - 1) == Verdict::replayed);
  // Once "a" could only come stale, it is forgotten.
  CHECK(window.take("c", t + wx::kMaxSkewSeconds + 1, t + wx::kMaxSkewSeconds + 1) ==
        Verdict::first);
  CHECK(window.size() == 1);
  for (std::size_t i = window.size(); i < wx::kMaxRememberedNonces; ++i)
    REQUIRE(window.take("n" + std::to_string(i), t + 400, t + 400) == Verdict::first);
  CHECK(window.take("one more", t + 400, t + 400) == Verdict::full);
  CHECK(window.take("one more", t + 800, t + 800) == Verdict::first);  // the window moved on
}

namespace {

// A WeChat Pay public key (微信支付公钥, as the merchant platform hands it: PEM
// SubjectPublicKeyInfo) and an answer it signed: its private half made with `openssl genrsa 2048`,
// then
//   printf '1554209980\nc5ac7061fccab6bf3e254dcf98995b8c\n<kAnswerBody>\n' > msg
//   openssl dgst -sha256 -sign wxp-priv.pem msg | base64 -w0
// (the private half was not kept).
const std::string kPublicKeyFile =
    std::string(CUNHUO_SOURCE_DIR) + "/tests/data/wechatpay/wechatpay-public-key-test.pem";
constexpr const char* kAnswerBody = R"({"prepay_id":"wx201410272009395522657a690389285100"})";
constexpr const char* kAnswerSignature =
    "ucyYAqMO1mI3cDWAXCOCoPzi8UKrwTxb3KBzUzSovScOQh8ibZmVqTkmxio59o6RDKQqqkwOdwrnX8OEvWKfzgS13"
    "HplYtYujtIcDWnSoRaQeg92EnTNhABJGV6VLH5jEimWtFZR1Nfgjs41ohFSQTp4hSvnOjyWmRnBSTl5mVvrsNI4mI4"
    "GnbaAJ8XcM3G1e/br2htY2fPEPiGrZwTOiueqtTKzJ6UX2SVXGar++N3bwJxT0CReFewzwb9BK8e4Vns4rEpQpGX3md"
    "5M6JCJOjWUVnm6CIILwtmas7zuXbXIwDGPOgSUACl5aG5R5dp2rftS++vwb2sqjx7X2ArmYA==";

std::string file_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE(
    "an answer signed with openssl dgst -sha256 -sign verifies with the WeChat Pay public key",
    "[wechatpay][public-key]") {
  auto key = wx::RsaKey::from_public_pem(file_text(kPublicKeyFile));
  REQUIRE(key.ok());
  const wx::SignedHeaders h{.serial = "PUB_KEY_ID_01142321349124100000000000000001",
                            .timestamp = "1554209980",
                            .nonce = "c5ac7061fccab6bf3e254dcf98995b8c",
                            .signature = kAnswerSignature};
  CHECK(wx::check_signed(h, kAnswerBody, *key, 1554209980).ok());
  // Another body, or the same message signed with another key (the merchant's), does not.
  auto changed = wx::check_signed(h, std::string(kAnswerBody) + " ", *key, 1554209980);
  REQUIRE_FALSE(changed.ok());
  CHECK(changed.error().code == wx::kBadSignature);
  auto other = wx::RsaKey::from_private_pem(checked_in_key());
  REQUIRE(other.ok());
  wx::SignedHeaders by_other = h;
  by_other.signature = *other->sign(wx::response_message(h.timestamp, h.nonce, kAnswerBody));
  CHECK(wx::check_signed(by_other, kAnswerBody, *key, 1554209980).error().code ==
        wx::kBadSignature);
}

TEST_CASE("a public key's id is PUB_KEY_ID_ followed by digits", "[wechatpay][public-key]") {
  CHECK(wx::is_public_key_id("PUB_KEY_ID_0117000800002025045698789500001779"));
  CHECK(wx::is_public_key_id("PUB_KEY_ID_1"));
  for (const char* not_one : {"", "PUB_KEY_ID_", "PUB_KEY_ID_12ab", "pub_key_id_123",
                              "PUB_KEY_ID_ 123", "5157F09EFDC096DE15EBE81A47057A72"})
    CHECK_FALSE(wx::is_public_key_id(not_one));
  CHECK_FALSE(wx::is_public_key_id("PUB_KEY_ID_" + std::string(65, '1')));
}
