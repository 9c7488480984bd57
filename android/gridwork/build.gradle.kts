// The Gridwork Android library: the Rust library for each ABI (built by cargo-ndk), the generated
// Kotlin bindings (../../bindings/generate.sh android) and the same thin coroutine layer the
// desktop-JVM tests use (bindings/kotlin/src/main/kotlin).
plugins {
    id("com.android.library")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "cn.gridwork"
    compileSdk = 35
    defaultConfig { minSdk = 26 }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    sourceSets["main"].kotlin.srcDirs(
        "src/main/kotlin",
        "src/main/kotlin-generated",
        "../../bindings/kotlin/src/main/kotlin",
    )
    sourceSets["main"].jniLibs.srcDirs("src/main/jniLibs")
}

kotlin { jvmToolchain(17) }

dependencies {
    implementation("net.java.dev.jna:jna:5.17.0@aar")
    implementation("org.jetbrains.kotlinx:kotlinx-coroutines-android:1.10.2")
    implementation("androidx.annotation:annotation:1.9.1")
}

// Rust library for every ABI the app ships, into src/main/jniLibs/<abi>/libgridwork_ffi.so.
val cargoNdk by tasks.registering(Exec::class) {
    workingDir = rootDir.parentFile
    commandLine(
        "cargo", "ndk",
        "-t", "arm64-v8a", "-t", "armeabi-v7a", "-t", "x86_64",
        "-o", "android/gridwork/src/main/jniLibs",
        "build", "--release", "-p", "gridwork-ffi",
    )
}
// Kotlin bindings generated from the host build of the same library.
val generateBindings by tasks.registering(Exec::class) {
    workingDir = rootDir.parentFile
    commandLine("bindings/generate.sh", "android")
}
tasks.named("preBuild") { dependsOn(cargoNdk, generateBindings) }
