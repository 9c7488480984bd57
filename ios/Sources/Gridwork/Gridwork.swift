// The thin Swift layer over the generated bindings (Generated/, made by bindings/generate.sh
// swift): async calls off the main actor and an AsyncStream of data changes — the counterparts of
// the Kotlin layer's `call { }` and `changes()`.
import Foundation

extension GridworkStore {
    /// Runs a blocking store call on a background queue.
    public func call<T>(_ body: @escaping (GridworkStore) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { cont in
            DispatchQueue.global(qos: .userInitiated).async {
                cont.resume(with: Result { try body(self) })
            }
        }
    }

    /// The store's data changes; the subscription is cancelled when the stream ends.
    public func changes() -> AsyncStream<DataChanged> {
        AsyncStream { continuation in
            final class Forward: DataObserver {
                let continuation: AsyncStream<DataChanged>.Continuation
                init(_ c: AsyncStream<DataChanged>.Continuation) { continuation = c }
                func onDataChanged(change: DataChanged) throws { continuation.yield(change) }
            }
            let subscription = self.subscribe(observer: Forward(continuation))
            continuation.onTermination = { _ in subscription.cancel() }
        }
    }
}

extension GridworkSync {
    /// Syncs now and streams every step (the last one's phase is `.done`); the stream finishes
    /// with the run's error (`GridworkError.Revoked`, `.NotEnrolled`, `.Network`…) if it fails.
    /// Cancelling the consuming task cancels the sync at its next step.
    public func syncProgress() -> AsyncThrowingStream<SyncStep, Error> {
        AsyncThrowingStream { continuation in
            final class Forward: SyncProgressObserver {
                let continuation: AsyncThrowingStream<SyncStep, Error>.Continuation
                init(_ c: AsyncThrowingStream<SyncStep, Error>.Continuation) { continuation = c }
                func onProgress(step: SyncStep) throws { continuation.yield(step) }
            }
            let task = Task {
                do {
                    _ = try await self.syncNow(observer: Forward(continuation))
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { termination in
                if case .cancelled = termination { self.cancel(); task.cancel() }
            }
        }
    }
}
