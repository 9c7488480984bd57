// swift-tools-version:5.9
// Gridwork for iOS: the Rust library as an XCFramework (build-xcframework.sh) plus the generated
// Swift (bindings/generate.sh swift) and a thin async layer, as one `Gridwork` library.
import PackageDescription

let package = Package(
    name: "Gridwork",
    platforms: [.iOS(.v15)],
    products: [.library(name: "Gridwork", targets: ["Gridwork"])],
    targets: [
        .binaryTarget(name: "GridworkFFI", path: "GridworkFFI.xcframework"),
        .target(name: "Gridwork", dependencies: ["GridworkFFI"], path: "Sources/Gridwork"),
    ]
)
