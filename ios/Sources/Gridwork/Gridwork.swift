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
