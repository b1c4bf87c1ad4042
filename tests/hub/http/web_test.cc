// The web pages' server side (hub/http/web_assets.h, web_rules.cc, web_console.cc,
// lag_history.h): static pages with their content type and CSP, pages that reference only the
// hub's own assets and hold no inline code, the public rules explorer routes, who-am-I, the
// tokens list and the lag history. The pages themselves run in Chromium in tests/web/.
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <regex>
#include <thread>

#include "hub/http/api_tokens.h"
#include "hub/http/lag_history.h"
#include "hub/http/server.h"
#include "hub/http/web_assets.h"
#include "hub/store/store.h"
#include "tests/support/temp_dir.h"

namespace carehub {
namespace {

using namespace std::chrono_literals;
using Poco::JSON::Object;

struct Reply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string csp;
  Object::Ptr Json() const {
    Poco::JSON::Parser parser;
    return parser.parse(body).extract<Object::Ptr>();
  }
};

Reply Get(std::uint16_t port, const std::string& target, const std::string& token = "",
          const std::string& method = "GET") {
  Poco::Net::HTTPClientSession session("127.0.0.1", port);
  Poco::Net::HTTPRequest request(method, target, Poco::Net::HTTPMessage::HTTP_1_1);
  if (!token.empty()) request.set("Authorization", "Bearer " + token);
  session.sendRequest(request);
  Poco::Net::HTTPResponse response;
  std::istream& in = session.receiveResponse(response);
  Reply reply;
  reply.status = static_cast<int>(response.getStatus());
  reply.content_type = response.getContentType();
  reply.csp = response.get("Content-Security-Policy", "");
  Poco::StreamCopier::copyToString(in, reply.body);
  return reply;
}

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// An empty Shanghai hub with a department token, served with a fake exchange whose member "gd"
// advertises 50 entries of Guangdong's log (so its lag is 50) and a fast lag sampler.
class WebTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Store store = Store::Init(tmp_ / "hub", InitOptions{"sh", std::nullopt, {}});
    department_ = CreateApiToken(store, Role::kDepartment, "sh", NowMs()).token;
    auditor_ = CreateApiToken(store, Role::kAuditor, std::nullopt, NowMs()).token;
    HttpOptions options;
    options.max_threads = 2;
    options.lag_sample_interval_ms = 100;
    options.live_peers = [] {
      PeerLinkState gd;
      gd.name = "gd";
      gd.region = "440000";
      gd.connected = true;
      gd.advertised["440000"] = 50;
      return std::vector<PeerLinkState>{gd};
    };
    api_ = std::make_unique<HttpApi>(tmp_ / "hub", options);
    api_->Start("127.0.0.1", 0);
  }

  Reply Call(const std::string& target, const std::string& token = "") {
    return Get(api_->port(), target, token);
  }

  testing::TempDir tmp_;
  std::string department_;
  std::string auditor_;
  std::unique_ptr<HttpApi> api_;
};

TEST_F(WebTest, PagesAreServedAtTheRootWithTheirTypeAndAStrictCsp) {
  const Reply index = Call("/");
  ASSERT_EQ(index.status, 200);
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<html lang=\"zh-CN\">"), std::string::npos);
  EXPECT_EQ(index.csp.rfind("default-src 'self'", 0), 0u) << index.csp;
  for (const std::string page : {"/rules.html", "/datasets.html", "/console.html"}) {
    EXPECT_EQ(Call(page).status, 200) << page;
  }
  const Reply chart = Call("/vendor/chart.min.js");
  ASSERT_EQ(chart.status, 200);
  EXPECT_EQ(chart.content_type, "text/javascript; charset=utf-8");
  EXPECT_GT(chart.body.size(), 100000u) << "Chart.js from libjs-chart.js is embedded";
  EXPECT_EQ(Call("/css/app.css").content_type, "text/css; charset=utf-8");
  const Reply head = Get(api_->port(), "/console.html", "", "HEAD");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  // Unknown pages and directory tricks are the API's JSON 404; POST to a page is no route.
  EXPECT_EQ(Call("/missing.html").status, 404);
  EXPECT_EQ(Call("/js/../index.html").status, 404);
  EXPECT_EQ(Get(api_->port(), "/", "", "POST").status, 404);
}

TEST(WebAssetsTest, PagesHoldNoInlineCodeAndReferenceOnlyTheHubsOwnAssets) {
  const std::regex inline_script(R"(<script(?![^>]*\bsrc=)[^>]*>)");
  const std::regex forbidden(R"(<style|\sstyle=|\son[a-z]+=|javascript:)");
  const std::regex reference(R"re((?:src|href)="([^"]*)")re");
  int pages = 0;
  for (const http::WebAsset& asset : http::WebAssets()) {
    if (asset.path.starts_with("vendor/")) continue;
    // An SVG's namespace is a name, not a request.
    const std::string content = std::regex_replace(
        std::string(asset.content), std::regex(R"(xmlns="http://www.w3.org/2000/svg")"), "");
    EXPECT_EQ(content.find("http://"), std::string::npos) << asset.path << " names an outside URL";
    EXPECT_EQ(content.find("https://"), std::string::npos) << asset.path << " names an outside URL";
    if (!asset.path.ends_with(".html")) continue;
    ++pages;
    EXPECT_FALSE(std::regex_search(content, inline_script)) << asset.path << ": inline script";
    EXPECT_FALSE(std::regex_search(content, forbidden)) << asset.path << ": inline style/handler";
    for (auto it = std::sregex_iterator(content.begin(), content.end(), reference);
         it != std::sregex_iterator(); ++it) {
      const std::string target = (*it)[1];
      if (target.starts_with("#")) continue;
      ASSERT_TRUE(target.starts_with("/")) << asset.path << ": " << target;
      EXPECT_TRUE(http::FindWebAsset(target)) << asset.path << " links to a missing " << target;
    }
  }
  EXPECT_EQ(pages, 4);
}

TEST_F(WebTest, RulesDecisionAnswersAShanghaiLevelInZhuhai) {
  const Reply reply =
      Call("/v1/rules/decision?origin=sh&level=4&target=440400&on=2026-01-01&dated=2025-11-15");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const auto json = reply.Json();
  const auto query = json->getObject("query");
  EXPECT_EQ(query->getValue<std::string>("scale"), "SH_CARE_NEEDS");  // the origin's own scale
  EXPECT_EQ(query->getValue<std::string>("target"), "440400");
  const auto decision = json->getObject("decision");
  EXPECT_EQ(decision->getObject("target")->getValue<std::string>("scale"), "GBT42195");
  EXPECT_FALSE(decision->getObject("target")->getValue<std::string>("code").empty());
  EXPECT_EQ(decision->getValue<std::string>("policy"), "region-440400@1");
  EXPECT_FALSE(decision->getObject("legal_basis")->getValue<std::string>("document").empty());
  EXPECT_GE(decision->getArray("reasons")->size(), 3u);
  const auto conditions = json->getObject("conditions");
  EXPECT_EQ(conditions->getValue<int>("validity_months"), 6);
  EXPECT_EQ(conditions->getValue<std::string>("rules_of"), "440400");
  EXPECT_EQ(conditions->getValue<std::string>("valid_from"), "2025-11-15");
  EXPECT_EQ(conditions->getValue<std::string>("valid_until").substr(0, 7), "2026-05");
  // Eight months later the same level is past Zhuhai's window.
  const auto late =
      Call("/v1/rules/decision?origin=sh&level=4&target=440400&on=2026-07-15&dated=2025-11-15")
          .Json();
  EXPECT_EQ(late->getObject("decision")->getValue<std::string>("outcome"), "reassessment_required");
}

TEST_F(WebTest, RulesDecisionNamesTheBadParameter) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"origin=sh&target=440400", "level"},
      {"origin=sh&level=99&target=440400", "level"},
      {"origin=xx&level=1&target=440400", "origin"},
      {"origin=sh&level=1", "target"},
      {"origin=sh&level=1&target=440400&kind=sanction", "kind"},
      {"origin=sh&level=1&target=440400&scale=NOPE", "scale"},
      {"origin=sh&level=1&target=440400&on=2026-02-30", "on"},
      {"origin=sh&level=1&target=440400&name=x", "name"},
  };
  for (const auto& [query, field] : cases) {
    const Reply reply = Call("/v1/rules/decision?" + query);
    EXPECT_EQ(reply.status, 400) << query;
    EXPECT_EQ(reply.Json()->getObject("error")->getValue<std::string>("field"), field) << query;
  }
}

TEST_F(WebTest, RulesCatalogListsOriginsRegionsAndScales) {
  const auto json = Call("/v1/rules?on=2026-01-01").Json();
  EXPECT_EQ(json->getArray("origins")->size(), 7u);
  bool zhuhai = false;
  for (const auto& region : *json->getArray("regions")) {
    const auto r = region.extract<Object::Ptr>();
    if (r->getValue<std::string>("code") != "440400") continue;
    zhuhai = true;
    EXPECT_NE(r->getValue<std::string>("name").find("Zhuhai"), std::string::npos);
    EXPECT_EQ(r->getObject("scales")->getValue<std::string>("assessment"), "GBT42195");
  }
  EXPECT_TRUE(zhuhai);
  bool shanghai_scale = false;
  for (const auto& scale : *json->getArray("scales")) {
    const auto s = scale.extract<Object::Ptr>();
    if (s->getValue<std::string>("id") == "SH_CARE_NEEDS") {
      shanghai_scale = s->getArray("levels")->size() > 3;
    }
  }
  EXPECT_TRUE(shanghai_scale);
}

TEST_F(WebTest, WhoAmIAndTokensNeverShowASecret) {
  const auto anonymous = Call("/v1/whoami").Json();
  EXPECT_EQ(anonymous->getValue<std::string>("role"), "anonymous");
  EXPECT_FALSE(anonymous->getValue<bool>("can_read"));
  const auto department = Call("/v1/whoami", department_).Json();
  EXPECT_EQ(department->getValue<std::string>("region"), "310000");
  EXPECT_TRUE(department->getValue<bool>("can_write"));
  const auto auditor = Call("/v1/whoami", auditor_).Json();
  EXPECT_TRUE(auditor->getValue<bool>("can_read"));
  EXPECT_FALSE(auditor->getValue<bool>("can_write"));

  EXPECT_EQ(Call("/v1/tokens", auditor_).status, 403);
  const Reply tokens = Call("/v1/tokens", department_);
  ASSERT_EQ(tokens.status, 200);
  const std::string secret = department_.substr(department_.rfind('_') + 1);
  EXPECT_EQ(tokens.body.find(secret), std::string::npos);
  const auto items = tokens.Json()->getArray("items");
  ASSERT_EQ(items->size(), 2u);
  int current = 0;
  for (const auto& item : *items) current += item.extract<Object::Ptr>()->getValue<bool>("current");
  EXPECT_EQ(current, 1);
}

TEST_F(WebTest, LagHistoryRecordsEveryMembersLag) {
  std::vector<int> lags;
  for (int attempt = 0; attempt < 50 && lags.size() < 2; ++attempt) {
    std::this_thread::sleep_for(100ms);
    const Reply reply = Call("/v1/metrics/lag", auditor_);
    ASSERT_EQ(reply.status, 200) << reply.body;
    lags.clear();
    const Object::Ptr json = reply.Json();
    for (const auto& sample : *json->getArray("samples")) {
      lags.push_back(sample.extract<Object::Ptr>()->getObject("lag")->getValue<int>("gd"));
    }
  }
  ASSERT_GE(lags.size(), 2u);
  EXPECT_EQ(lags.back(), 50);  // advertised 50, none applied here
  EXPECT_EQ(Call("/v1/metrics/lag").status, 401);
}

TEST(LagHistoryTest, KeepsOnlyTheWindow) {
  LagHistory history(std::chrono::milliseconds(1000));
  history.Add(LagSample{0, {{"a", 1}}});
  history.Add(LagSample{900, {{"a", 2}}});
  EXPECT_EQ(history.Samples().size(), 2u);
  history.Add(LagSample{1500, {{"a", 3}}});
  const auto samples = history.Samples();
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(samples.front().at_ms, 900);
  EXPECT_EQ(samples.back().lag.at("a"), 3);
}

TEST(LagHistoryTest, SamplerSkipsAFailingSampleAndStops) {
  LagHistory history(std::chrono::hours(1));
  std::atomic<int> calls{0};
  LagSampler sampler(history, 10ms, [&calls] {
    if (++calls == 1) throw std::runtime_error("store busy");
    return LagSample{calls.load(), {}};
  });
  for (int i = 0; i < 200 && history.Samples().size() < 2; ++i) std::this_thread::sleep_for(5ms);
  sampler.Stop();
  const std::size_t kept = history.Samples().size();
  EXPECT_GE(kept, 2u);
  std::this_thread::sleep_for(30ms);
  EXPECT_EQ(history.Samples().size(), kept) << "no sample after Stop";
}

}  // namespace
}  // namespace carehub
