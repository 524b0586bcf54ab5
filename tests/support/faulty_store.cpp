#include "tests/support/faulty_store.hpp"

namespace cunhuo::test {
namespace {

// The inner store's session, with every statement counted first.
class FaultySession final : public db::Session {
 public:
  FaultySession(db::Session& inner, FaultyStore& store) : inner_(inner), store_(store) {}
  db::Dialect dialect() const override { return inner_.dialect(); }
  Result<db::Exec> exec_with(std::string_view sql, std::span<const db::Value> params) override {
    CUNHUO_CHECK(store_.next_statement());
    return inner_.exec_with(sql, params);
  }
  Result<std::vector<db::Row>> query_with(std::string_view sql,
                                          std::span<const db::Value> params) override {
    CUNHUO_CHECK(store_.next_statement());
    return inner_.query_with(sql, params);
  }
  Result<std::int64_t> last_insert_id() override {
    CUNHUO_CHECK(store_.next_statement());
    return inner_.last_insert_id();
  }
  Status exec_script(std::string_view sql) override {
    CUNHUO_CHECK(store_.next_statement());
    return inner_.exec_script(sql);
  }

 private:
  db::Session& inner_;
  FaultyStore& store_;
};

}  // namespace

void FaultyStore::fail_at(std::int64_t n) {
  seen_ = 0;
  failed_ = false;
  fail_at_ = n;
}

Status FaultyStore::next_statement() {
  const std::int64_t n = ++seen_;
  if (n != fail_at_) return {};
  failed_ = true;
  // Not one of the codes the stores retry: the body sees it and the transaction rolls back.
  return make_error(ErrorKind::internal, std::string(kInjectedFault),
                    "statement " + std::to_string(n) + " failed (injected)");
}

Status FaultyStore::run(db::TxMode mode, const std::function<Status(db::Session&)>& body) {
  auto counted = [&](db::Session& s) -> Status {
    FaultySession faulty(s, *this);
    return body(faulty);
  };
  return mode == db::TxMode::write ? inner_.write(counted) : inner_.read(counted);
}

void FaultyStore::write_async(std::function<Status(db::Session&)> body,
                              std::function<void(Status)> done) {
  inner_.write_async(
      [this, body = std::move(body)](db::Session& s) -> Status {
        FaultySession faulty(s, *this);
        return body(faulty);
      },
      std::move(done));
}

}  // namespace cunhuo::test
