namespace FlowOrleans.GrainInterfaces.Security;

/// <summary>
/// Marks a grain method only silos may call (routing registrations, indexes, the per-silo pin operations the pin grains
/// drive). Silos refuse a call to it from an Orleans client with <see cref="Transport.FlowErrorCode.NotTrusted"/>.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class SiloOnlyAttribute : Attribute;
