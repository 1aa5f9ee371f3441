using FlowOrleans.Transport;

namespace FlowOrleans.GrainInterfaces;

/// <summary>
/// Carries a <see cref="FlowException"/> across grain calls with its code, so callers on clients and other silos
/// branch on <see cref="FlowException.Code"/> exactly as they would in process. The remote stack stays behind.
/// </summary>
[GenerateSerializer, Immutable, Alias("FlowOrleans.FlowException")]
public readonly record struct FlowExceptionSurrogate(
    [property: Id(0)] FlowErrorCode Code,
    [property: Id(1)] string Message);

/// <summary>Converts <see cref="FlowException"/> to and from its surrogate for Orleans serialization.</summary>
[RegisterConverter]
public sealed class FlowExceptionConverter : IConverter<FlowException, FlowExceptionSurrogate>
{
    public FlowException ConvertFromSurrogate(in FlowExceptionSurrogate surrogate) => new(surrogate.Code, surrogate.Message);

    public FlowExceptionSurrogate ConvertToSurrogate(in FlowException value) => new(value.Code, value.Message);
}
