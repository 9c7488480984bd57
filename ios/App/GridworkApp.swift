// A small SwiftUI app over the Gridwork package: my day (due visits), a visit form and a sync
// button — the same screens as the Android app. Add this folder to an iOS App target in Xcode that
// depends on the local `Gridwork` package (see README.md).
import Gridwork
import SwiftUI

@main
struct GridworkApp: App {
    let store: GridworkStore
    let sync: GridworkSync

    init() {
        let dir = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        // swiftlint:disable force_try
        store = try! GridworkStore.open(path: dir.appendingPathComponent("gridwork.db").path, key: StoreKey.get())
        sync = try! GridworkSync(store: store)
        // swiftlint:enable force_try
    }

    var body: some Scene {
        WindowGroup { MyDayView(store: store, sync: sync) }
    }
}

struct MyDayView: View {
    let store: GridworkStore
    let sync: GridworkSync
    @State private var day: MyDay?
    @State private var syncing: String?
    @State private var error: String?
    @State private var visiting: DueVisit?

    var body: some View {
        NavigationStack {
            List(day?.dueVisits ?? [], id: \.household.id) { due in
                Button { visiting = due } label: {
                    VStack(alignment: .leading) {
                        Text(due.household.headName).font(.headline)
                        Text("\(due.household.address) · 逾期 \(due.daysOverdue) 天").font(.caption)
                    }
                }
            }
            .navigationTitle("待走访 \(day?.dueVisitCount ?? 0) 户")
            .toolbar {
                Button("同步") { Task { await runSync() } }.disabled(syncing != nil)
            }
            .safeAreaInset(edge: .bottom) {
                Text(syncing ?? error ?? "待同步 \(day?.pendingChanges ?? 0) 条").font(.footnote)
            }
            .sheet(item: $visiting) { due in VisitForm(store: store, due: due) }
        }
        .task {
            await reload()
            for await _ in store.changes() { await reload() }
        }
    }

    func reload() async {
        do {
            let now = Date()
            day = try await store.call { try $0.myDay(dayStart: Calendar.current.startOfDay(for: now), now: now) }
        } catch let e as GridworkError {
            error = e.code()
        } catch {}
    }
}

extension MyDayView {
    func runSync() async {
        defer { syncing = nil }
        do {
            for try await step in sync.syncProgress() {
                syncing = "\(step.phase) ↑\(step.progress.pushed) ↓\(step.progress.pulled)"
            }
        } catch let e as GridworkError {
            error = e.code()
        } catch {}
    }
}

extension DueVisit: Identifiable { public var id: UUID { household.id } }

struct VisitForm: View {
    let store: GridworkStore
    let due: DueVisit
    @Environment(\.dismiss) private var dismiss
    @State private var situation = ""
    @State private var needs = ""

    var body: some View {
        Form {
            Section("走访 \(due.household.headName)") {
                TextField("家庭情况", text: $situation)
                TextField("诉求", text: $needs)
            }
            Button("保存") {
                let input = VisitInput(householdId: due.household.id, visitedAt: Date(), kind: .routine,
                                       outcome: .met, situation: situation, needs: needs, satisfaction: nil,
                                       knowsWorker: nil, followUpDue: nil, photos: [], location: nil,
                                       incidentId: nil, taskId: nil)
                Task {
                    _ = try? await store.call { try $0.recordVisit(input: input) }
                    dismiss()
                }
            }
        }
    }
}
