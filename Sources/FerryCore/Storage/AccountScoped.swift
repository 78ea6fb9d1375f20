/// A record that belongs to one account. The store places it in the account a call names
/// (``scoped(to:)``), so a record built for one tenant can never be written into another.
public protocol AccountScoped {
  var accountID: AccountID { get set }
}

extension AccountScoped {
  /// This record, placed in `account`.
  public func scoped(to account: AccountID) -> Self {
    var copy = self
    copy.accountID = account
    return copy
  }
}

extension Connection: AccountScoped {}
extension Fetcher: AccountScoped {}
extension Archive: AccountScoped {}
extension RestoreJob: AccountScoped {}
