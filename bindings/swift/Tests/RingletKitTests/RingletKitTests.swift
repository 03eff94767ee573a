// Glue tests for the Swift binding: each call reaches the Rust core and comes back as the
// generated records or RingletError cases. Needs the fake agent:
//   cargo build -p ringlet-tests --bin fake-agent   (or set RINGLET_FAKE_AGENT)
import Foundation
import XCTest

@testable import RingletKit

final class RingletKitTests: XCTestCase {
    static let key = "sk-canary-swift-93aa"

    var home: URL!
    var ringlet: Ringlet!

    var fakeAgent: String {
        if let path = ProcessInfo.processInfo.environment["RINGLET_FAKE_AGENT"] { return path }
        let repo = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return repo.appendingPathComponent("target/debug/fake-agent").path
    }

    override func setUpWithError() throws {
        home = FileManager.default.temporaryDirectory
            .appendingPathComponent("ringlet-swift-\(UUID().uuidString)")
        let config = home.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        // The file backend: the tests never touch the developer's keychain.
        try "[credentials]\nbackend = \"file\"\n".write(
            to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        ringlet = try Ringlet(home: home.path)
        XCTAssertTrue(FileManager.default.isExecutableFile(atPath: fakeAgent),
                      "build the fake agent: cargo build -p ringlet-tests --bin fake-agent")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: home)
    }

    @discardableResult
    func makeProfile(_ alias: String) throws -> Profile {
        try ringlet.createProfile(
            req: NewProfile(agent: "claude", alias: alias, provider: "minimax",
                            model: "MiniMax-M2", binary: fakeAgent),
            key: Self.key)
    }

    func testCreateListGetDelete() throws {
        let created = try makeProfile("work")
        XCTAssertEqual(created.alias, "work")
        XCTAssertEqual(created.binary, fakeAgent)
        XCTAssertEqual(try ringlet.profiles().map(\.alias), ["work"])
        XCTAssertEqual(try ringlet.profile(alias: "work").agent, "claude")
        XCTAssertTrue(try ringlet.hasProfile(alias: "work"))
        try ringlet.deleteProfile(alias: "work")
        XCTAssertEqual(try ringlet.profiles().count, 0)
    }

    func testUpdateProfile() throws {
        try makeProfile("work")
        let updated = try ringlet.updateProfile(
            alias: "work",
            update: ProfileUpdate(sandbox: "always", model: "MiniMax-M3", setEnv: ["A": "1"],
                                  args: ["--x"]))
        XCTAssertEqual(updated.sandbox, "always")
        XCTAssertEqual(updated.model, "MiniMax-M3")
        XCTAssertEqual(updated.env, ["A": "1"])
        XCTAssertEqual(updated.args, ["--x"])
        let cleared = try ringlet.updateProfile(
            alias: "work", update: ProfileUpdate(unsetEnv: ["A"], args: [], clearBinary: true))
        XCTAssertEqual(cleared.env, [:])
        XCTAssertNil(cleared.binary)
        XCTAssertThrowsError(
            try ringlet.updateProfile(alias: "work", update: ProfileUpdate(sandbox: "never"))
        ) { error in
            guard case RingletError.InvalidInput = error else {
                return XCTFail("expected InvalidInput, got \(error)")
            }
        }
        XCTAssertEqual(try ringlet.profile(alias: "work").sandbox, "always")
    }

    func testPlanHasHomeAndNoSecret() throws {
        try makeProfile("work")
        let plan = try ringlet.planRun(alias: "work", args: ["-p", "hello"])
        let home = try ringlet.profileHome(alias: "work")
        XCTAssertEqual(plan.home, home)
        XCTAssertEqual(plan.env["HOME"], home)
        XCTAssertEqual(Array(plan.args.suffix(2)), ["-p", "hello"])
        XCTAssertFalse(String(describing: plan).contains(Self.key))
        let masked = plan.maskedEnv.first { $0.secret }
        XCTAssertEqual(masked?.value, "********")
    }

    func testRunReturnsTheExitCode() throws {
        try makeProfile("work")
        let outcome = try ringlet.run(alias: "work", args: ["--exit", "7"])
        XCTAssertEqual(outcome.exitCode, 7)
        XCTAssertEqual(try ringlet.profile(alias: "work").totalRuns, 1)
    }

    func testTypedErrors() throws {
        XCTAssertThrowsError(try ringlet.profile(alias: "nobody")) { error in
            guard case RingletError.ProfileNotFound(let message, let kind, let hint) = error else {
                return XCTFail("expected ProfileNotFound, got \(error)")
            }
            XCTAssertTrue(message.contains("nobody"))
            XCTAssertEqual(kind, .notFound)
            XCTAssertEqual(hint, "see profiles()")
            XCTAssertEqual(message, "profile 'nobody' not found; see profiles()")
        }
        XCTAssertThrowsError(try makeProfile("../evil")) { error in
            guard case RingletError.InvalidAlias = error else {
                return XCTFail("expected InvalidAlias, got \(error)")
            }
        }
        XCTAssertThrowsError(try ringlet.removeKey(provider: "minimax", alias: "none")) { error in
            guard case RingletError.Key(let code, _, _, _) = error else {
                return XCTFail("expected Key, got \(error)")
            }
            XCTAssertEqual(code, "key_not_found")
            XCTAssertEqual((error as? RingletError)?.kind(), .notFound)
        }
    }

    func testKeys() throws {
        try ringlet.setKey(provider: "minimax", alias: "k", secret: "sk-other")
        XCTAssertThrowsError(try ringlet.setKey(provider: "minimax", alias: "k", secret: "sk-again")) { error in
            guard let error = error as? RingletError, case .Key(let code, _, _, _) = error else {
                return XCTFail("expected Key, got \(error)")
            }
            XCTAssertEqual(code, "key_exists")
            XCTAssertEqual(error.kind(), .conflict)
            // The fix in Swift's terms, not the CLI's --replace.
            XCTAssertEqual(error.hint(), "pass replace: true to overwrite it")
        }
        try ringlet.setKey(provider: "minimax", alias: "k", secret: "sk-again", replace: true)
        XCTAssertEqual(try ringlet.listKeys(), [CredentialKey(provider: "minimax", alias: "k")])
        try ringlet.removeKey(provider: "minimax", alias: "k")
        XCTAssertEqual(try ringlet.listKeys().count, 0)
    }

    func testUsageIsEmptyThenShowsARun() throws {
        let empty = try ringlet.usage(query: nil)
        XCTAssertEqual(empty.group, "profile")
        XCTAssertEqual(empty.rows.count, 0)
        XCTAssertEqual(empty.total.events, 0)
        try makeProfile("work")
        _ = try ringlet.run(alias: "work", args: ["--claude-log", "3"])
        let report = try ringlet.usage(query: UsageQuery(since: "today"))
        XCTAssertEqual(report.rows.map(\.profile), ["work"])
        XCTAssertEqual(report.total.events, 3)
        XCTAssertEqual(try ringlet.usageEvents(query: UsageQuery(profile: "work")).count, 3)
    }

    func testImportReportsProgressToAListener() throws {
        try makeProfile("work")
        _ = try ringlet.run(alias: "work", args: ["--claude-log", "2"])
        // A second home imports the first profile's Claude Code logs.
        let otherHome = home.appendingPathComponent("other")
        let config = otherHome.appendingPathComponent("config")
        try FileManager.default.createDirectory(at: config, withIntermediateDirectories: true)
        try "[credentials]\nbackend = \"file\"\n".write(
            to: config.appendingPathComponent("config.toml"), atomically: true, encoding: .utf8)
        let other = try Ringlet(home: otherHome.path)
        _ = try other.createProfile(
            req: NewProfile(agent: "claude", alias: "copy", provider: "minimax",
                            model: "MiniMax-M2", binary: fakeAgent),
            key: Self.key)
        let recorder = ProgressRecorder()
        let report = try other.importUsage(
            req: ImportRequest(agent: "claude", profile: "copy",
                               from: try ringlet.profileHome(alias: "work")),
            progress: recorder)
        XCTAssertEqual(report.summary.inserted, 2)
        let seen = recorder.seen
        XCTAssertGreaterThanOrEqual(seen.count, 2)
        XCTAssertEqual(seen.map(\.filesDone), (0..<Int64(seen.count)).map { $0 })
        XCTAssertEqual(seen.last?.filesTotal, Int64(seen.count - 1))
        XCTAssertEqual(seen.last?.inserted, 2)
    }

    func testHooksAddListRemove() throws {
        try makeProfile("work")
        let added = try ringlet.addHook(req: NewHook(profile: "work", event: "stop", shell: "true"))
        XCTAssertEqual(added.action, "shell")
        XCTAssertEqual(try ringlet.hooks().map(\.id), [added.id])
        XCTAssertEqual(try ringlet.removeHook(id: added.id).id, added.id)
        XCTAssertEqual(try ringlet.hooks().count, 0)
        XCTAssertThrowsError(try ringlet.removeHook(id: added.id)) { error in
            guard case RingletError.HookNotFound = error else {
                return XCTFail("expected HookNotFound, got \(error)")
            }
        }
    }
}

/// Keeps every progress report; called from the thread running the import.
final class ProgressRecorder: ImportProgressListener, @unchecked Sendable {
    private let lock = NSLock()
    private var reports: [ImportProgress] = []

    func onProgress(progress: ImportProgress) {
        lock.lock()
        defer { lock.unlock() }
        reports.append(progress)
    }

    var seen: [ImportProgress] {
        lock.lock()
        defer { lock.unlock() }
        return reports
    }
}
