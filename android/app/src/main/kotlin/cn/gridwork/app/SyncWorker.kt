package cn.gridwork.app

import android.content.Context
import androidx.work.CoroutineWorker
import androidx.work.WorkerParameters
import cn.gridwork.call
import cn.gridwork.ffi.GridworkException

/**
 * Background sync with WorkManager: one `syncNow` run, then the photo uploads. Network trouble is
 * retried by WorkManager's backoff; a revoked device (the library has wiped the store) or a
 * device that is not enrolled stops, and the UI shows the enrolment screen.
 */
class SyncWorker(context: Context, params: WorkerParameters) : CoroutineWorker(context, params) {
    override suspend fun doWork(): Result {
        val app = applicationContext as GridworkApp
        return try {
            app.sync.syncNow(null)
            app.sync.uploadAttachments()
            app.store.call { checkpoint() }
            Result.success()
        } catch (e: GridworkException.Revoked) {
            Result.failure()
        } catch (e: GridworkException.NotEnrolled) {
            Result.failure()
        } catch (e: GridworkException) {
            Result.retry()
        }
    }
}
