package cn.gridwork.app

import android.os.Bundle
import androidx.activity.ComponentActivity
import androidx.activity.compose.setContent
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.Button
import androidx.compose.material3.LinearProgressIndicator
import androidx.compose.material3.ListItem
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.unit.dp
import cn.gridwork.call
import cn.gridwork.changes
import cn.gridwork.core.DueVisit
import cn.gridwork.core.VisitInput
import cn.gridwork.core.VisitKind
import cn.gridwork.core.VisitOutcome
import cn.gridwork.ffi.GridworkException
import cn.gridwork.ffi.GridworkStore
import cn.gridwork.core.MyDay
import cn.gridwork.syncProgress
import java.time.Instant
import kotlinx.coroutines.launch

class MainActivity : ComponentActivity() {
    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        val app = application as GridworkApp
        setContent { MaterialTheme { MyDayScreen(app) } }
    }
}

/** 我的一天: due visits of the signed-in worker's grid, a visit form, and a sync button. */
@Composable
fun MyDayScreen(app: GridworkApp) {
    val store = app.store
    var day by remember { mutableStateOf<MyDay?>(null) }
    var error by remember { mutableStateOf<String?>(null) }
    var visiting by remember { mutableStateOf<DueVisit?>(null) }
    var syncing by remember { mutableStateOf<String?>(null) }
    val scope = rememberCoroutineScope()

    suspend fun reload() {
        try {
            val now = Instant.now()
            day = store.call { myDay(now.truncatedTo(java.time.temporal.ChronoUnit.DAYS), now) }
        } catch (e: GridworkException) {
            error = e.code()
        }
    }
    LaunchedEffect(store) {
        reload()
        store.changes().collect { reload() } // refresh whenever data changes, local or synced
    }

    Scaffold { padding ->
        Column(Modifier.padding(padding).padding(16.dp)) {
            Text("待走访 ${day?.dueVisitCount ?: 0} 户 · 今日走访 ${day?.visitsToday ?: 0} 次", style = MaterialTheme.typography.titleLarge)
            Text("待同步 ${day?.pendingChanges ?: 0} 条")
            error?.let { Text("错误：$it", color = MaterialTheme.colorScheme.error) }
            Button(enabled = syncing == null, onClick = {
                scope.launch {
                    try {
                        app.sync.syncProgress().collect { step -> syncing = "${step.phase} ↑${step.progress.pushed} ↓${step.progress.pulled}" }
                    } catch (e: GridworkException) {
                        error = e.code()
                    } finally {
                        syncing = null
                    }
                }
            }) { Text("同步") }
            syncing?.let { Text(it); LinearProgressIndicator() }
            LazyColumn {
                items(day?.dueVisits.orEmpty(), key = { it.household.id }) { due ->
                    ListItem(
                        headlineContent = { Text(due.household.headName) },
                        supportingContent = { Text("${due.household.address} · 逾期 ${due.daysOverdue} 天") },
                        modifier = Modifier.clickable { visiting = due },
                    )
                }
            }
        }
    }

    visiting?.let { due ->
        VisitForm(due, onDismiss = { visiting = null }) { situation, needs ->
            scope.launch {
                try {
                    store.call {
                        recordVisit(VisitInput(due.household.id, Instant.now(), VisitKind.ROUTINE, VisitOutcome.MET,
                            situation, needs, null, null, null, emptyList(), null, null, null))
                    }
                    visiting = null
                } catch (e: GridworkException.InvalidInput) {
                    error = "${e.field}: ${e.reason}"
                }
            }
        }
    }
}

@Composable
fun VisitForm(due: DueVisit, onDismiss: () -> Unit, onSave: (String, String) -> Unit) {
    var situation by remember { mutableStateOf("") }
    var needs by remember { mutableStateOf("") }
    AlertDialog(
        onDismissRequest = onDismiss,
        title = { Text("走访 ${due.household.headName}") },
        text = {
            Column {
                OutlinedTextField(situation, { situation = it }, label = { Text("家庭情况") })
                OutlinedTextField(needs, { needs = it }, label = { Text("诉求") })
            }
        },
        confirmButton = { TextButton(onClick = { onSave(situation, needs) }) { Text("保存") } },
        dismissButton = { TextButton(onClick = onDismiss) { Text("取消") } },
    )
}
