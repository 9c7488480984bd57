package cn.gridwork.app

import android.app.Application
import androidx.work.Constraints
import androidx.work.ExistingPeriodicWorkPolicy
import androidx.work.NetworkType
import androidx.work.PeriodicWorkRequestBuilder
import androidx.work.WorkManager
import cn.gridwork.android.StoreKey
import cn.gridwork.ffi.GridworkStore
import cn.gridwork.ffi.GridworkSync
import java.io.File
import java.util.concurrent.TimeUnit

/** Holds the one store of the app, opened with the Keystore-protected key. */
class GridworkApp : Application() {
    val store: GridworkStore by lazy {
        GridworkStore.open(File(noBackupFilesDir, "gridwork.db").path, StoreKey.get(this))
    }

    /** The store's sync object (enrol, syncNow, status); one per store. */
    val sync: GridworkSync by lazy { GridworkSync(store) }

    override fun onCreate() {
        super.onCreate()
        WorkManager.getInstance(this).enqueueUniquePeriodicWork(
            "gridwork-sync",
            ExistingPeriodicWorkPolicy.KEEP,
            PeriodicWorkRequestBuilder<SyncWorker>(30, TimeUnit.MINUTES)
                .setConstraints(Constraints.Builder().setRequiredNetworkType(NetworkType.CONNECTED).build())
                .build(),
        )
    }
}
