using System.Reflection;
using System.Runtime.CompilerServices;
using FlowOrleans.Transport.Connections;

namespace FlowOrleans.Tests.Architecture;

/// <summary>
/// Rules of the Transport's shape that keep it easy to change: flows know their connection only through
/// <c>IFlowConnection</c> (no <c>Flows</c> to <c>Connections</c> dependency), the leaf namespaces depend on neither,
/// and no source file grows past 600 lines.
/// </summary>
[Trait(TestKinds.Name, TestKinds.Unit)]
public sealed class LayeringTests
{
    private const string Root = "FlowOrleans.Transport.";

    [Theory]
    [InlineData("Flows", "Connections")]
    [InlineData("Records", "Connections")]
    [InlineData("Records", "Flows")]
    [InlineData("Threading", "Connections")]
    [InlineData("Threading", "Flows")]
    public void ANamespaceDoesNotReachUpTheLayers(string from, string to)
    {
        var offenders = typeof(ManagedConnection).Assembly.GetTypes()
            .Where(t => t.Namespace == Root + from)
            .SelectMany(t => ReferencedTypes(t).Select(r => (t, r)))
            .Where(pair => pair.r.Namespace == Root + to)
            .Select(pair => $"{pair.t.Name} -> {pair.r.Name}")
            .Distinct()
            .ToList();
        Assert.Empty(offenders);

        // Method bodies do not show in signatures: the sources must not name the namespace either.
        var sources = Directory.GetFiles(Path.Combine(TransportSources(), from), "*.cs", SearchOption.AllDirectories);
        Assert.NotEmpty(sources);
        Assert.All(sources, file => Assert.DoesNotContain(Root + to, File.ReadAllText(file), StringComparison.Ordinal));
    }

    [Fact]
    public void NoTransportSourceFileIsLongerThan600Lines()
    {
        var tooLong = Directory.GetFiles(TransportSources(), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(f => (File: Path.GetRelativePath(TransportSources(), f), Lines: File.ReadLines(f).Count()))
            .Where(f => f.Lines > 600)
            .ToList();
        Assert.Empty(tooLong);
    }

    private static IEnumerable<Type> ReferencedTypes(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var types = new List<Type?> { type.BaseType };
        types.AddRange(type.GetInterfaces());
        types.AddRange(type.GetFields(all).Select(f => f.FieldType));
        types.AddRange(type.GetProperties(all).Select(p => p.PropertyType));
        foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            types.AddRange(method.GetParameters().Select(p => p.ParameterType));
            if (method is MethodInfo info)
            {
                types.Add(info.ReturnType);
            }
        }

        return types.OfType<Type>().SelectMany(Unwrap);
    }

    private static IEnumerable<Type> Unwrap(Type type)
    {
        if (type.HasElementType)
        {
            return Unwrap(type.GetElementType()!);
        }

        return type.IsGenericType ? [type, .. type.GetGenericArguments().SelectMany(Unwrap)] : [type];
    }

    private static string TransportSources([CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", "Transport"));
}
